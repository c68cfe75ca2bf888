/**
 * The workspace file formats, defined once. JSON Schemas in schemas/ are generated
 * from these (`reprorom schemas`), so editors and the checker agree.
 */
import { z } from 'zod';

export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const name = z
  .string()
  .regex(NAME_PATTERN, 'expected a name of lowercase letters, digits, ".", "_" or "-" (at most 64)');

/** SRI sha256 as nix prints it: `sha256-` + 44 base64 characters. */
export const NAR_HASH_PATTERN = /^sha256-[A-Za-z0-9+/]{43}=$/;
export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;

const envMap = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name (letters, digits and _)'),
    z.string({ error: 'expected a string value (quote numbers)' }),
  )
  .describe('Extra environment variables');

export const pinSchema = z
  .strictObject({
    description: z.string().optional(),
    flake: z
      .string({
        error: 'expected a flake reference such as github:NixOS/nixpkgs/<40-hex commit> or path:./dir',
      })
      .min(1)
      .describe(
        'Flake reference locked to a commit (github:, git+…?rev=) or a local path: relative to the workspace',
      ),
    narHash: z
      .string({ error: 'expected an SRI hash sha256-… (run `reprorom pin lock NAME`)' })
      .regex(NAR_HASH_PATTERN, 'expected an SRI hash sha256-<44 base64 characters>')
      .describe('NAR hash of the flake source, as in flake.lock'),
    packageSet: z
      .enum(['legacyPackages', 'packages'])
      .default('legacyPackages')
      .describe('Which flake output holds the packages (nixpkgs: legacyPackages)'),
    system: z.string().default('x86_64-linux'),
  })
  .describe('A pinned Nix flake');

const fhsSchema = z.strictObject({
  package: z.string().min(1).describe('Package whose tree is linked at the image root'),
  links: z
    .array(z.string().regex(/^\/[A-Za-z0-9._/-]+$/, 'expected an absolute path such as /usr'))
    .default(['/bin', '/lib', '/lib64', '/usr']),
});

export const imageSchema = z
  .strictObject({
    description: z.string().optional(),
    pin: name.describe('Pin (file stem in pins/) that provides the packages'),
    packages: z.array(z.string().min(1)).min(1, 'expected at least one package'),
    extraPins: z
      .array(
        z.strictObject({
          pin: name,
          packages: z.array(z.string().min(1)).min(1, 'expected at least one package'),
        }),
      )
      .default([])
      .describe('Packages taken from other pins (for example an older nixpkgs for one tool)'),
    env: envMap.default({}),
    fhs: fhsSchema.optional().describe('Link a package tree at /bin, /usr, … (for Debian-built toolchains)'),
    user: z
      .strictObject({
        name: name.default('build'),
        uid: z.number().int().min(1).max(65534).default(1000),
      })
      .default({ name: 'build', uid: 1000 }),
  })
  .describe('A Docker image made from a pinned package set');

const localSource = z.strictObject({
  type: z.literal('local'),
  path: z.string().default('.').describe('Folder relative to the workspace'),
  exclude: z.array(z.string()).default([]),
});
const gitSource = z.strictObject({
  type: z.literal('git'),
  url: z.string().min(1),
  rev: z.string().regex(/^[0-9a-f]{40}$/, 'expected a full 40-hex commit, not a branch or tag'),
});
const tarballSource = z.strictObject({
  type: z.literal('tarball'),
  url: z.string().min(1),
  sha256: z.string().regex(SHA256_HEX_PATTERN, 'expected 64 lowercase hex digits'),
  stripComponents: z.number().int().min(0).default(1),
});
const debianSource = z.strictObject({
  type: z.literal('debian-source'),
  package: z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'expected a Debian source package name'),
  version: z.string().regex(/^[0-9A-Za-z.+~:-]+$/, 'expected a Debian version such as 1.16.2-1'),
  sha256: z
    .record(z.string(), z.string().regex(SHA256_HEX_PATTERN, 'expected 64 lowercase hex digits'))
    .describe('sha256 of each file of the source package (.dsc, .orig.tar.*, .debian.tar.*)'),
});

export const sourceSchema = z.discriminatedUnion(
  'type',
  [localSource, gitSource, tarballSource, debianSource],
  {
    error: 'expected one of local, git, tarball, debian-source',
  },
);

const artifactPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
    message: 'expected a path or glob relative to the source, without ".." or a leading "/"',
  });

/** QEMU options that would connect the guest to a network (NICs, or a char device over a socket). */
const NETWORK_ARG = /^--?(nic|net|netdev)$|^(tcp|udp|telnet|websocket|unix):|(^|,)(socket|udp)(,|$)/;

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

export const bootSchema = z.strictObject({
  machine: z.string().min(1),
  arch: z.enum(['x86_64', 'i386', 'riscv64', 'aarch64']),
  artifact: artifactPath,
  as: z.enum(['bios', 'kernel', 'pflash']).default('bios'),
  channel: z.enum(['serial', 'debugcon']).default('serial'),
  args: z
    .array(
      z.string().refine((a) => !NETWORK_ARG.test(a), {
        message: 'expected no network option: a boot check never gives the guest a network',
      }),
    )
    .default([]),
  expect: z
    .string()
    .min(1)
    .refine(isRegExp, { message: 'expected a valid JavaScript regular expression' })
    .describe('Regular expression that must appear on the channel'),
  timeout: z.number().int().min(1).max(3600).default(60),
});

export const boardSchema = z
  .strictObject({
    description: z.string().optional(),
    image: name.describe('Image (file stem in images/) the board builds in'),
    source: sourceSchema.default({ type: 'local', path: '.', exclude: [] }),
    commands: z.array(z.string().min(1)).min(1, 'expected at least one build command'),
    workdir: z.string().default('.').describe('Folder inside the source where commands run'),
    artifacts: z.array(artifactPath).min(1, 'expected at least one artifact'),
    env: envMap.default({}),
    sourceDateEpoch: z
      .union([z.number().int().min(0), z.literal('commit')], {
        error: 'expected a whole number of seconds since 1970, or "commit"',
      })
      .default(1)
      .describe('Fixed SOURCE_DATE_EPOCH, or "commit" for the source commit time'),
    limits: z
      .strictObject({
        memory: z
          .number()
          .int()
          .min(16 * 1024 * 1024)
          .default(4 * 1024 ** 3),
        pids: z.number().int().min(16).default(4096),
      })
      .default({ memory: 4 * 1024 ** 3, pids: 4096 }),
    boot: bootSchema.optional(),
  })
  .describe('A firmware board: what to build, in which image, and which artifacts to keep');

export type Pin = z.output<typeof pinSchema>;
export type ImageDef = z.output<typeof imageSchema>;
export type Board = z.output<typeof boardSchema>;
export type Source = z.output<typeof sourceSchema>;

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
  return z.toJSONSchema(workspaceKinds[kind], { io: 'input', unrepresentable: 'any' });
}
