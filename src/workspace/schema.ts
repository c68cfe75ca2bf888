/**
 * The workspace file formats, defined once. JSON Schemas in schemas/ are generated
 * from these (`reprorom schemas`), so editors and the checker agree.
 */
import { posix } from 'node:path';
import * as z from 'zod/mini';
import { checkRelativeName } from '../archive/containment.js';
import { SHA256_HEX } from '../util/sha256.js';
import { matching, nonEmptyString, wholeNumber } from '../util/zod.js';
import { excludePatternProblem } from '../vocabulary/exclude.js';
import { NAME_PATTERN, NAR_HASH_PATTERN } from '../vocabulary/names.js';
import { VARIATION_NAMES, type VariationName } from '../vocabulary/variationNames.js';
import { byteSize } from './size.js';

export { NAME_PATTERN, NAR_HASH_PATTERN };

const name = matching(
  NAME_PATTERN,
  'expected a name of lowercase letters, digits, ".", "_" or "-" (at most 64)',
);

/** A reason shown to people (why a variation is off, why a board mismatches): blank says nothing. */
const reason = () =>
  z.string({ error: 'expected a reason (text)' }).check(
    z.refine((s) => s.trim() !== '', {
      message: 'expected a reason that says something, not an empty or blank text',
    }),
  );

/**
 * Node's timers wait at most 2^31-1 ms (about 24.8 days); a longer delay fires after 1 ms,
 * so a larger time limit would stop every run at once.
 */
export const MAX_TIME_LIMIT_S = Math.floor((2 ** 31 - 1) / 1000);

const atLeastOne = <T extends z.ZodMiniType>(item: T, message: string) =>
  z.array(item).check(z.minLength(1, message));

/** The free-text `description:` every workspace file may carry. */
const describedAs = (what: string) =>
  z.optional(z.string()).check(z.describe(`What this ${what} is for (free text, shown to people only)`));

const envMap = z
  .record(
    matching(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name (letters, digits and _)'),
    z.string({ error: 'expected a string value (quote numbers)' }),
  )
  .check(z.describe('Extra environment variables'));

export const pinSchema = z
  .strictObject({
    description: describedAs('pin'),
    flake: z
      .string({
        error: 'expected a flake reference such as github:NixOS/nixpkgs/<40-hex commit> or path:./dir',
      })
      .check(
        z.minLength(1),
        z.describe(
          'Flake reference locked to a commit (github:, git+…?rev=) or a local path: relative to the workspace',
        ),
      ),
    narHash: z
      .string({ error: 'expected an SRI hash sha256-… (run `reprorom pin lock NAME`)' })
      .check(
        z.regex(NAR_HASH_PATTERN, 'expected an SRI hash sha256-<44 base64 characters>'),
        z.describe('NAR hash of the flake source, as in flake.lock'),
      ),
    packageSet: z
      ._default(z.enum(['legacyPackages', 'packages']), 'legacyPackages')
      .check(z.describe('Which flake output holds the packages (nixpkgs: legacyPackages)')),
    system: z
      ._default(z.string(), 'x86_64-linux')
      .check(z.describe('Nix system whose packages are used (x86_64-linux, aarch64-linux)')),
  })
  .check(z.describe('A pinned Nix flake'));

/**
 * Folders an FHS link must neither be, sit in, nor contain: the container runtime mounts
 * /proc, /sys and /dev (and /etc/hosts…), the store is /nix, and the root layer writes
 * /build, /tmp, /var/tmp, /root and /etc/passwd. A link there fails late or hides them.
 */
export const RESERVED_ROOT_PATHS = [
  '/proc',
  '/sys',
  '/dev',
  '/nix',
  '/build',
  '/tmp',
  '/var/tmp',
  '/root',
  '/etc',
];

function reservedBy(link: string): string | undefined {
  return RESERVED_ROOT_PATHS.find((r) => link === r || link.startsWith(`${r}/`) || r.startsWith(`${link}/`));
}

const fhsLink = matching(
  /^(\/[A-Za-z0-9_][A-Za-z0-9._-]*)+$/,
  'expected an absolute path such as /usr, without "." or ".." parts',
).check(
  z.refine((l) => reservedBy(l) === undefined, {
    message: `expected a toolchain folder such as /bin, /usr, /lib or /lib64, not one of ${RESERVED_ROOT_PATHS.join(', ')} (or a folder holding one)`,
  }),
);

const fhsSchema = z.strictObject({
  package: nonEmptyString().check(z.describe('Package whose tree is linked at the image root')),
  links: z
    ._default(z.array(fhsLink), ['/bin', '/lib', '/lib64', '/usr'])
    .check(z.describe("Folders of the package's tree linked at the same path in the image root")),
});

export const imageSchema = z
  .strictObject({
    description: describedAs('image'),
    pin: name.check(z.describe('Pin (file stem in pins/) that provides the packages')),
    packages: atLeastOne(nonEmptyString(), 'expected at least one package').check(
      z.describe('Attribute names of the packages in the pin, e.g. gcc, gnumake, python3'),
    ),
    extraPins: z
      ._default(
        z.array(
          z.strictObject({
            pin: name.check(z.describe('Pin (file stem in pins/) these packages come from')),
            packages: atLeastOne(nonEmptyString(), 'expected at least one package').check(
              z.describe('Attribute names of the packages in that pin'),
            ),
          }),
        ),
        [],
      )
      .check(z.describe('Packages taken from other pins (for example an older nixpkgs for one tool)')),
    env: z._default(envMap, {}).check(z.describe('Environment variables set in the image')),
    fhs: z
      .optional(fhsSchema)
      .check(z.describe('Link a package tree at /bin, /usr, … (for Debian-built toolchains)')),
    user: z
      ._default(
        z.strictObject({
          name: z._default(name, 'build').check(z.describe('User name builds run as')),
          uid: z._default(wholeNumber(1, 65534), 1000).check(z.describe('Numeric user id builds run as')),
        }),
        { name: 'build', uid: 1000 },
      )
      .check(z.describe('The unprivileged user builds run as')),
  })
  .check(z.describe('A Docker image made from a pinned package set'));

const localSource = z.strictObject({
  type: z
    .literal('local')
    .check(z.describe('A folder of the workspace (the firmware tree next to its Makefiles)')),
  path: z._default(z.string(), '.').check(z.describe('Folder relative to the workspace')),
  exclude: z
    ._default(
      z.array(
        z.string().check(
          z.refine((p) => excludePatternProblem(p) === undefined, {
            error: (iss) => `expected a gitignore pattern: ${excludePatternProblem(String(iss.input))}`,
          }),
        ),
      ),
      [],
    )
    .check(
      z.describe(
        'gitignore-style patterns of files left out of a local source (.gitignore itself is not read: ignored files are copied unless listed here)',
      ),
    ),
});
const gitSource = z.strictObject({
  type: z.literal('git').check(z.describe('A git repository, checked out at one commit')),
  url: nonEmptyString().check(z.describe('Repository URL (https:, ssh: or a local path)')),
  rev: matching(/^[0-9a-f]{40}$/, 'expected a full 40-hex commit, not a branch or tag').check(
    z.describe('The full 40-hex commit to build'),
  ),
});
const tarballSource = z.strictObject({
  type: z.literal('tarball').check(z.describe('A downloaded archive, checked against its sha256')),
  url: nonEmptyString().check(z.describe('Where the archive is downloaded from')),
  sha256: matching(SHA256_HEX, 'expected 64 lowercase hex digits').check(
    z.describe('sha256 of the archive (64 lowercase hex digits)'),
  ),
  stripComponents: z
    ._default(wholeNumber(0), 1)
    .check(z.describe('Leading path components removed when unpacking (as tar --strip-components)')),
});
const debianSource = z.strictObject({
  type: z.literal('debian-source').check(z.describe('A Debian source package from the Debian archive')),
  patches: z
    .enum(['debian', 'none'], {
      error:
        'expected "debian" (the Debian quilt patches applied, as dpkg-source does) or "none" (the upstream release as Debian ships it, debian/ folder beside it)',
    })
    .check(
      z.describe(
        'Whether the Debian patches (debian/patches/series) are applied: said out loud, since the ROM differs',
      ),
    ),
  package: matching(/^[a-z0-9][a-z0-9+.-]+$/, 'expected a Debian source package name').check(
    z.describe('Source package name, e.g. seabios'),
  ),
  version: matching(/^[0-9A-Za-z.+~:-]+$/, 'expected a Debian version such as 1.16.2-1').check(
    z.describe('Debian version of the source package, e.g. 1.16.2-1'),
  ),
  sha256: z
    .record(
      matching(
        /^[A-Za-z0-9][A-Za-z0-9+.~_-]*$/,
        'expected a file name of the source package such as seabios_1.16.2-1.dsc',
      ),
      matching(SHA256_HEX, 'expected 64 lowercase hex digits'),
    )
    .check(
      z.refine((files) => Object.keys(files).filter((f) => f.endsWith('.dsc')).length === 1, {
        message:
          'expected the sha256 of each file of the source package, with exactly one .dsc (and its .orig.tar.*, .debian.tar.*)',
      }),
      z.describe('sha256 of each file of the source package (.dsc, .orig.tar.*, .debian.tar.*)'),
    ),
});

export const sourceSchema = z.discriminatedUnion(
  'type',
  [localSource, gitSource, tarballSource, debianSource],
  {
    error: 'expected one of local, git, tarball, debian-source',
  },
);

const artifactPath = nonEmptyString().check(
  z.refine((p) => checkRelativeName(p).ok, {
    message: 'expected a path or glob relative to the source, without ".." or a leading "/"',
  }),
);

/**
 * What a board takes besides its source, each placed at `path` in the source tree before the
 * build: another board's artifact (the run with the same index), or a pinned file (a URL or a
 * Debian binary package, each with its sha256). Cross-board rules (the producer exists and
 * declares the artifact, no cycles) are checked in workspace/inputs.ts.
 */
const inputPath = z
  .pipe(
    nonEmptyString().check(
      z.refine((p) => checkRelativeName(p).ok, {
        message: 'expected a file path relative to the source, without ".." or a leading "/"',
      }),
    ),
    // One spelling per place: `./in.txt` and `sub//f.txt` are `in.txt` and `sub/f.txt`, so every
    // conflict (with the source, between inputs) is found by comparing normalised paths.
    z.transform((p: string, ctx) => {
      const normal = posix.normalize(p);
      if (normal === '.' || normal.endsWith('/')) {
        ctx.issues.push({
          code: 'custom',
          message: `"${p}" names a folder, expected a file path relative to the source (such as payloads/p.bin)`,
          input: p,
        });
        return z.NEVER;
      }
      return normal;
    }),
  )
  .check(z.describe('Where the input is placed, relative to the source tree'));
const inputSha256 = matching(SHA256_HEX, 'expected 64 lowercase hex digits').check(
  z.describe('sha256 of the file (64 lowercase hex digits)'),
);
export const inputSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z
        .literal('board')
        .check(z.describe("Another board's artifact, from its run with the same index")),
      board: name.check(z.describe('The producing board (file stem in boards/)')),
      artifact: artifactPath.check(z.describe("One of the producer's artifacts, as the producer names it")),
      path: inputPath,
    }),
    z.strictObject({
      type: z.literal('url').check(z.describe('A file downloaded from a URL, checked against its sha256')),
      url: nonEmptyString().check(z.describe('Where the file is downloaded from (http:, https: or file:)')),
      sha256: inputSha256,
      path: inputPath,
    }),
    z.strictObject({
      type: z
        .literal('debian')
        .check(z.describe('A Debian binary package (.deb) from the archive apt knows')),
      package: matching(/^[a-z0-9][a-z0-9+.-]+$/, 'expected a Debian binary package name').check(
        z.describe('Binary package name, e.g. linux-image-6.1.0-57-amd64'),
      ),
      version: matching(/^[0-9A-Za-z.+~:-]+$/, 'expected a Debian version such as 6.1.158-1').check(
        z.describe('Debian version of the package'),
      ),
      arch: z
        ._default(matching(/^[a-z0-9-]+$/, 'expected a Debian architecture such as amd64'), 'amd64')
        .check(z.describe('Debian architecture of the package (default amd64)')),
      sha256: inputSha256,
      path: inputPath,
    }),
  ],
  { error: 'expected an input of type board, url or debian' },
);

/** A QEMU machine or CPU model name: no options (`,`, `=`), nothing that reads as a flag. */
const qemuName = (what: string) =>
  matching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, `expected ${what} (a plain name, no options)`);

/**
 * What a board may ask of QEMU: a closed list of values, never free-form arguments. A board
 * file comes with a pull request, and QEMU runs on the host: every other option (files,
 * sockets, a gdb server, a monitor) is reprorom's to set (src/boot/qemuArgs.ts).
 */
export const bootSchema = z.strictObject({
  machine: qemuName('a QEMU machine name such as pc, q35 or virt').check(z.describe('QEMU -M')),
  arch: z
    .enum(['x86_64', 'i386', 'riscv64', 'aarch64'])
    .check(z.describe('QEMU system emulator (qemu-system-ARCH)')),
  cpu: z.optional(
    qemuName('a QEMU CPU model such as qemu64, cortex-a57 or rv64').check(z.describe('QEMU -cpu')),
  ),
  memory: z._default(wholeNumber(16, 16384), 256).check(z.describe('Guest memory in MiB')),
  artifact: artifactPath.check(z.describe("The artifact booted (one of the board's artifacts)")),
  as: z
    ._default(z.enum(['bios', 'kernel', 'pflash', 'initrd']), 'bios')
    .check(
      z.describe(
        'How QEMU loads the artifact: -bios, -kernel, a pflash drive, or -initrd (with boot.kernel as -kernel)',
      ),
    ),
  kernel: z.optional(
    artifactPath.check(
      z.describe(
        "With as: initrd, the Linux kernel booted with it (another of the board's artifacts); its command line is reprorom's: the machine's serial console, panic=-1, rdinit=/init",
      ),
    ),
  ),
  channel: z
    ._default(z.enum(['serial', 'debugcon']), 'serial')
    .check(z.describe('Where the expected text is read: the serial port or the debug console (port 0x402)')),
  expect: nonEmptyString().check(
    z.describe(
      'Regular expression (RE2 syntax: no backreferences or lookaround) that must appear on the channel; matched in linear time',
    ),
  ),
  timeout: z
    ._default(wholeNumber(1, 3600), 60)
    .check(z.describe('Seconds to wait for the expected text before the boot check fails')),
});

export const boardSchema = z
  .strictObject({
    description: describedAs('board'),
    image: name.check(z.describe('Image (file stem in images/) the board builds in')),
    source: z
      ._default(sourceSchema, { type: 'local', path: '.', exclude: [] })
      .check(z.describe('Where the source comes from (default: the workspace folder itself)')),
    commands: atLeastOne(nonEmptyString(), 'expected at least one build command').check(
      z.describe(
        'Shell commands run one after the other in workdir; the build fails at the first that fails',
      ),
    ),
    workdir: z
      ._default(
        z.string().check(
          z.refine((w) => !w.startsWith('/') && !w.split('/').includes('..'), {
            message: 'expected a folder inside the source, without ".." or a leading "/"',
          }),
        ),
        '.',
      )
      .check(z.describe('Folder inside the source where commands run')),
    artifacts: atLeastOne(artifactPath, 'expected at least one artifact').check(
      z.describe(
        'Files (paths or globs relative to the source) kept, hashed and compared; each must be a regular file, and each path or glob must match at least one',
      ),
    ),
    optionalArtifacts: z
      ._default(z.array(artifactPath), [])
      .check(
        z.describe(
          'Like artifacts, but a path or glob here may match nothing (what it matches must still be regular files); boot and inputs name only artifacts',
        ),
      ),
    env: z._default(envMap, {}).check(z.describe('Environment variables set for the build commands')),
    sourceDateEpoch: z
      ._default(
        z.union([wholeNumber(0), z.literal('commit')], {
          error: 'expected a whole number of seconds since 1970, or "commit"',
        }),
        1,
      )
      .check(z.describe('Fixed SOURCE_DATE_EPOCH, or "commit" for the source commit time')),
    limits: z
      ._default(
        z.strictObject({
          memory: z
            ._default(byteSize(16 * 1024 * 1024), 4 * 1024 ** 3)
            .check(
              z.describe('Bytes of memory a run may use: a number, or a size such as 4GiB (default 4 GiB)'),
            ),
          pids: z
            ._default(wholeNumber(16), 4096)
            .check(z.describe('Processes and threads a run may have at once')),
          disk: z.optional(
            byteSize(1024 * 1024).check(
              z.describe(
                'Bytes the build may write: /build and /tmp become tmpfs of this size each and the rest of the file system read-only (a number or a size such as 2GiB; tmpfs counts against memory too; needs GNU tar in the image)',
              ),
            ),
          ),
          time: z.optional(
            z.int({ error: 'expected a whole number of seconds' }).check(
              z.gte(1, 'expected a whole number of seconds, at least 1'),
              // A refinement, not z.lte: its message says why, and the loader keeps it.
              z.refine((n) => n <= MAX_TIME_LIMIT_S, {
                message: `expected at most ${MAX_TIME_LIMIT_S} seconds (about 24 days, the longest timer Node can set); leave limits.time out for no limit`,
              }),
              z.describe('Seconds a run may take; the container is stopped past it'),
            ),
          ),
          log: z.optional(
            byteSize(64 * 1024).check(
              z.describe(
                "Bytes of build output the board's log file keeps, for all its runs: the head and the tail, with a line saying how much of the middle was dropped (a number or a size such as 64MiB; default 32 MiB)",
              ),
            ),
          ),
        }),
        { memory: 4 * 1024 ** 3, pids: 4096 },
      )
      .check(z.describe('Resource limits of each build container')),
    boot: z
      .optional(bootSchema)
      .check(
        z.describe('Boot check: boot an artifact in QEMU and expect a text (reprorom boot, build --boot)'),
      ),
    all: z
      ._default(z.boolean({ error: 'expected true or false' }), true)
      .check(
        z.describe(
          'Whether `build --all` builds this board (default true); false for heavy boards, which are built by name (`build BOARD`)',
        ),
      ),
    expectMismatch: z.optional(
      reason().check(
        z.describe(
          'Why this board is known not to be reproducible yet: its mismatch is reported as expected (exit 0), and release and verify refuse it',
        ),
      ),
    ),
    vary: z.optional(
      z
        .strictObject(
          Object.fromEntries(
            VARIATION_NAMES.map((n) => [
              n,
              z.optional(
                z
                  .strictObject({
                    off: reason().check(
                      z.describe(
                        'Why this board does not vary it: shown in every report, manifest and provenance',
                      ),
                    ),
                  })
                  .check(z.describe(`Turn the ${n} variation off for this board, with the reason`)),
              ),
            ]),
          ) as Record<VariationName, z.ZodMiniOptional<z.ZodMiniObject<{ off: z.ZodMiniString<string> }>>>,
        )
        .check(
          z.describe('Variations this board turns off, each with its reason, e.g. { time: { off: "…" } }'),
        ),
    ),
    inputs: z
      ._default(z.array(inputSchema), [])
      .check(
        z.describe("Files placed in the source tree before the build: other boards' artifacts, pinned files"),
      ),
  })
  .check(z.describe('A firmware board: what to build, in which image, and which artifacts to keep'));

export type Pin = z.output<typeof pinSchema>;
export type ImageDef = z.output<typeof imageSchema>;
export type Board = z.output<typeof boardSchema>;
export type Source = z.output<typeof sourceSchema>;
export type BoardInput = z.output<typeof inputSchema>;

export const workspaceKinds = {
  pins: pinSchema,
  images: imageSchema,
  boards: boardSchema,
} as const;
export type WorkspaceKind = keyof typeof workspaceKinds;

export const schemaFileNames: Record<WorkspaceKind, string> = {
  pins: 'pin.schema.json',
  images: 'image.schema.json',
  boards: 'board.schema.json',
};

/** JSON Schema for editors (yaml-language-server), generated from the zod schemas. */
export function jsonSchemaFor(kind: WorkspaceKind): object {
  return z.toJSONSchema(workspaceKinds[kind], { target: 'draft-07', io: 'input', unrepresentable: 'any' });
}
