/**
 * The workspace file formats, defined once. JSON Schemas in schemas/ are generated
 * from these (`reprorom schemas`), so editors and the checker agree.
 */
import * as z from 'zod/mini';
import { matching, nonEmptyString, wholeNumber } from '../util/zod.js';
import { NAME_PATTERN, NAR_HASH_PATTERN } from '../vocabulary/names.js';
import { VARIATION_NAMES, type VariationName } from '../vocabulary/variationNames.js';
import { bootSchema } from './bootSchema.js';
import { inputSchema } from './inputSchema.js';
import {
  artifactPath,
  atLeastOne,
  describedAs,
  envMap,
  MAX_TIME_LIMIT_S,
  name,
  reason,
} from './schemaParts.js';
import { byteSize } from './size.js';
import { sourceSchema } from './sourceSchema.js';

export { bootSchema } from './bootSchema.js';
export { inputSchema } from './inputSchema.js';
export { MAX_TIME_LIMIT_S } from './schemaParts.js';
export { sourceSchema } from './sourceSchema.js';
export { NAME_PATTERN, NAR_HASH_PATTERN };

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
