/**
 * manifest.json: the provenance of one board run (what went in, what came out).
 * No wall-clock timestamps, only durationMs, so two runs of the same inputs differ
 * only where their environments were varied on purpose.
 */
import { join } from 'node:path';
import { LineCounter, type Node, parseDocument } from 'yaml';
import * as z from 'zod/mini';
import { writeFileAtomic } from '../util/atomic.js';
import { BuildFailedError, ConfigError, type Problem } from '../util/errors.js';
import { printable } from '../util/printable.js';
import { SHA256_HEX } from '../util/sha256.js';
import { matching, nonEmptyString, wholeNumber } from '../util/zod.js';
import { NAME_PATTERN } from '../vocabulary/names.js';
import { artifactPathProblem, comparePaths } from './artifactPath.js';
import { readText } from './hashesTxt.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_SCHEMA = 'reprorom.manifest/v1';

const HEX_MESSAGE = 'expected 64 lowercase hex digits';
const sha256 = z.string({ error: HEX_MESSAGE }).check(z.regex(SHA256_HEX, HEX_MESSAGE));
const narHash = matching(/^sha256-[A-Za-z0-9+/]{43}=$/, 'expected an SRI hash sha256-<44 base64 characters>');
const artifactPath = z.string().check(
  z.superRefine((p, ctx) => {
    const why = artifactPathProblem(p);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  }),
);
/**
 * Run ids and machine names become folder names (merge, logs) and labels on a terminal:
 * simple names only, as `build --machine` accepts them.
 */
export const SIMPLE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const simpleName = () =>
  matching(SIMPLE_NAME, 'expected a simple name (letters, digits, ".", "_", "-"; at most 64 characters)');
const pinRef = z.strictObject({ name: nonEmptyString(), flake: nonEmptyString(), narHash });

/** The source as a run saw it: its tree hash and where it was published (see docs/buildtypes/board-v1.md). */
export const manifestSourceSchema = z.strictObject({
  type: z.enum(['local', 'git', 'tarball', 'debian-source']),
  hash: nonEmptyString().check(z.describe('Content hash of the source tree the build saw')),
  commit: z.optional(z.string()),
  package: z.optional(z.string()),
  version: z.optional(z.string()),
  url: z.optional(z.string()).check(z.describe('Where a git or tarball source comes from')),
  sha256: z.optional(sha256).check(z.describe("sha256 of a tarball source's file, as pinned")),
  files: z
    .optional(z.record(z.string(), sha256))
    .check(z.describe('sha256 of each file of a Debian source package (.dsc, .orig…), as pinned')),
  path: z
    .optional(z.string())
    .check(z.describe("A local source's folder relative to the top of its git checkout")),
  dirty: z
    .optional(z.boolean())
    .check(
      z.describe(
        'A local source: true when its tree is not exactly what the commit holds, or it is in no git checkout',
      ),
    ),
  patches: z
    .optional(
      z.strictObject({
        policy: z.enum(['debian', 'none']),
        applied: z.array(z.strictObject({ name: nonEmptyString(), sha256 })),
      }),
    )
    .check(z.describe("debian-source: the board's patch policy and the Debian patches applied, in order")),
});

export const manifestArtifactSchema = z.strictObject({
  path: artifactPath.check(
    z.describe('Relative to the folder holding manifest.json, e.g. artifacts/bios.bin'),
  ),
  sha256,
  size: wholeNumber(0),
});

/** One input a run placed in its source tree, with the sha256 of the bytes the build saw. */
export const manifestInputSchema = z.strictObject({
  type: z.enum(['board', 'url', 'debian']),
  path: nonEmptyString().check(z.describe('Where the input was placed, relative to the source tree')),
  sha256,
  size: wholeNumber(0),
  board: z.optional(z.string()),
  artifact: z.optional(z.string()),
  run: z.optional(wholeNumber(1)).check(z.describe("The producer's run whose artifact this is")),
  url: z.optional(z.string()),
  package: z.optional(z.string()),
  version: z.optional(z.string()),
  arch: z.optional(z.string()),
});

export const manifestSchema = z
  .strictObject({
    schema: z.literal(MANIFEST_SCHEMA, { error: `expected "${MANIFEST_SCHEMA}"` }),
    tool: z.strictObject({ name: nonEmptyString(), version: nonEmptyString() }),
    board: matching(NAME_PATTERN, 'expected a board name as in boards/NAME.yaml (a-z, 0-9, ".", "_", "-")'),
    run: z.strictObject({
      id: simpleName(),
      index: wholeNumber(1),
      machine: z.optional(simpleName()).check(z.describe('Who built it, when the user names the machine')),
      culpritSearch: z
        .optional(
          z.strictObject({
            of: simpleName().check(z.describe('The run id of the build whose mismatch this rerun explains')),
            isolates: nonEmptyString().check(
              z.describe(
                '"reference" (the reference repeated) or the variation names this rerun changes, joined by "+"',
              ),
            ),
          }),
        )
        .check(
          z.describe(
            'Set on the reruns of a culprit search: they explain a mismatch and are never runs of the build (merge and compare leave them out unless asked)',
          ),
        ),
    }),
    source: manifestSourceSchema,
    pin: pinRef,
    extraPins: z._default(z.array(pinRef), []),
    image: z.strictObject({
      name: nonEmptyString(),
      id: matching(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>'),
    }),
    commands: z.array(z.string()),
    env: z.record(z.string(), z.string()),
    sourceDateEpoch: wholeNumber(0),
    variations: z.strictObject({
      hostname: z.string(),
      uid: wholeNumber(0),
      umask: matching(/^0[0-7]{3}$/, 'expected an octal umask such as 0022'),
      tz: z.string(),
      locale: z.string(),
      jobs: wholeNumber(1),
      fileOrder: z.enum(['sorted', 'reverse', 'shuffled']),
      seed: z.optional(wholeNumber(0)),
      // Added with the variations that take effect (issue 17); older manifests lack them.
      domain: z.optional(z.string()),
      cpus: z.optional(wholeNumber(0)).check(z.describe('CPUs the build could see (a cpuset); 0 = all')),
      timeShift: z
        .optional(wholeNumber(0))
        .check(z.describe("Seconds the build's clock was moved (libfaketime)")),
      frozenClock: z
        .optional(wholeNumber(0))
        .check(
          z.describe(
            'Culprit search only: the clock stood still at this time (seconds since the epoch, plus timeShift) in this run',
          ),
        ),
      kernel: z.optional(z.enum(['host', 'uname-2.6'])),
      aslr: z.optional(z.boolean()),
      buildPath: z.optional(z.string()),
      off: z
        .optional(z.record(z.string(), z.string()))
        .check(z.describe('Variations turned off for this build, each with its reason')),
      notApplied: z
        .optional(z.record(z.string(), z.string()))
        .check(z.describe('Variations this run could not apply here, each with its reason')),
    }),
    inputs: z
      ._default(z.array(manifestInputSchema), [])
      .check(
        z.describe("Files placed in the source before the build (other boards' artifacts, pinned files)"),
      ),
    sandbox: z
      .optional(
        z.strictObject({
          masked: z.array(z.string()),
          readOnly: z.array(z.string()),
        }),
      )
      .check(
        z.describe(
          'Host paths the build container could not read (masked: empty or absent) or not write (readOnly); older manifests lack it',
        ),
      ),
    artifacts: z.array(manifestArtifactSchema),
    durationMs: wholeNumber(0),
    exitCode: wholeNumber(),
    result: z.enum(['ok', 'failed']),
    boot: z
      .optional(
        z.strictObject({
          ok: z.boolean(),
          artifact: z.string(),
          matched: z.nullable(z.string()),
          durationMs: wholeNumber(0),
          message: z.string(),
        }),
      )
      .check(z.describe('Result of the board boot check, when one ran')),
  })
  .check(
    z.superRefine((m, ctx) => {
      const seen = new Map<string, number>();
      m.artifacts.forEach((a, i) => {
        const first = seen.get(a.path);
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['artifacts', i, 'path'],
            message: `duplicate artifact path "${printable(a.path)}" (first at artifacts[${first}])`,
          });
        else seen.set(a.path, i);
      });
    }),
  );

export type Manifest = z.output<typeof manifestSchema>;
export type ManifestInput = z.input<typeof manifestSchema>;
export type ManifestArtifact = z.output<typeof manifestArtifactSchema>;
export type ManifestInputRecord = z.output<typeof manifestInputSchema>;

/** Canonical bytes: artifacts sorted by path, env keys sorted, two-space JSON and a final newline. */
export function formatManifest(manifest: ManifestInput): string {
  const parsed = manifestSchema.safeParse(manifest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BuildFailedError(
      `cannot write ${MANIFEST_FILE}: ${formatIssuePath(issue?.path ?? [])}: ${issue?.message ?? 'invalid'}`,
      'this is a reprorom bug: please report it',
    );
  }
  const m = parsed.data;
  const env = Object.fromEntries(Object.entries(m.env).sort(([a], [b]) => comparePaths(a, b)));
  const artifacts = [...m.artifacts].sort((a, b) => comparePaths(a.path, b.path));
  // A board without inputs writes the manifest it always wrote.
  const { inputs, ...rest } = m;
  const sortedInputs = [...inputs].sort((a, b) => comparePaths(a.path, b.path));
  return `${JSON.stringify({ ...rest, env, ...(inputs.length ? { inputs: sortedInputs } : {}), artifacts }, null, 2)}\n`;
}

/** Write `dir/manifest.json` atomically; returns its path. */
export async function writeManifest(dir: string, manifest: ManifestInput): Promise<string> {
  const path = join(dir, MANIFEST_FILE);
  await writeFileAtomic(path, formatManifest(manifest));
  return path;
}

/** Add a boot check's result to a run's manifest (rewritten atomically). */
export async function recordBoot(dir: string, boot: NonNullable<ManifestInput['boot']>): Promise<void> {
  const manifest = await readManifest(join(dir, MANIFEST_FILE));
  await writeManifest(dir, { ...manifest, boot });
}

/** `artifacts[2].sha256`: the JSON path as a person reads it. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out === '' ? String(k) : `.${String(k)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** Parse and validate; every problem is located as file:line:col plus its JSON path. */
export function parseManifest(text: string, file: string): Manifest {
  const hint = `fix ${file} or rebuild the run that wrote it`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const at = /position (\d+)/.exec(msg);
    const pos = at ? linePos(text, Number(at[1])) : { line: 1, col: 1 };
    // Node's message may quote the text over several lines: keep the first, as one line.
    const first = (msg.split('\n')[0] ?? msg).replace(/ in JSON at position.*$/, '').replace(/, ".*$/, '');
    throw new ConfigError(
      [{ file, ...pos, message: `invalid JSON (${first}), expected a manifest.json written by reprorom` }],
      hint,
    );
  }
  const nul = text.indexOf('\0');
  if (nul >= 0)
    throw new ConfigError([{ file, ...linePos(text, nul), message: 'file contains a NUL byte' }], hint);
  // Another tool's file, or another version's: say that once instead of listing every field.
  const schema =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)['schema']
      : undefined;
  if (schema !== MANIFEST_SCHEMA) {
    const locate0 = locator(text);
    throw new ConfigError(
      [
        {
          file,
          ...locate0(schema === undefined ? [] : ['schema']),
          message: `not a reprorom manifest (schema ${JSON.stringify(schema ?? null)}), expected "schema": "${MANIFEST_SCHEMA}"`,
        },
      ],
      hint,
    );
  }
  const result = manifestSchema.safeParse(value);
  if (result.success) return result.data;
  const locate = locator(text);
  const problems: Problem[] = result.error.issues.map((issue) => ({
    file,
    ...locate(issue.path),
    message: `${formatIssuePath(issue.path)}: ${issue.message}`,
  }));
  throw new ConfigError(problems, hint);
}

export async function readManifest(path: string): Promise<Manifest> {
  return parseManifest(await readText(path), path);
}

function linePos(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}

/** JSON is YAML: the yaml parser's node ranges give each path's position. */
function locator(text: string): (path: readonly PropertyKey[]) => { line: number; col: number } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  return (path) => {
    const keys = path.filter((k): k is string | number => typeof k !== 'symbol');
    for (let n = keys.length; n >= 0; n--) {
      const node = doc.getIn(keys.slice(0, n), true) as Node | undefined;
      const offset = node && typeof node === 'object' && 'range' in node ? node.range?.[0] : undefined;
      if (offset !== undefined) return lineCounter.linePos(offset);
    }
    return { line: 1, col: 1 };
  };
}
