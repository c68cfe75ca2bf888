/**
 * A release folder's manifest.json: which boards, which ROMs, built from which
 * pins, images and sources. Like every statement in a release it holds no
 * timestamp and no run id, so two releases of the same inputs are byte-identical.
 */

import * as z from 'zod/mini';
import { artifactPathProblem, comparePaths } from '../hashes/artifactPath.js';
import { formatIssuePath, manifestSourceSchema } from '../hashes/runManifest.js';
import { canonicalJson } from '../image/digest.js';
import { ConfigError } from '../util/errors.js';
import { matching, nonEmptyString, wholeNumber } from '../util/zod.js';

export const RELEASE_SCHEMA = 'reprorom.release/v1';
export const RELEASE_MANIFEST = 'manifest.json';
export const RELEASE_HASHES = 'hashes.txt';

const hex64 = matching(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');
const relPath = z.string().check(
  z.superRefine((p, ctx) => {
    const why = artifactPathProblem(p);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  }),
);
const pin = z.strictObject({ name: nonEmptyString(), flake: nonEmptyString(), narHash: nonEmptyString() });

export const releaseBoardSchema = z.strictObject({
  board: nonEmptyString(),
  image: z.strictObject({
    name: nonEmptyString(),
    id: matching(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>'),
  }),
  pin,
  extraPins: z.array(pin),
  source: manifestSourceSchema,
  commands: z.array(z.string()),
  sourceDateEpoch: wholeNumber(0),
  /** How many varied runs agreed on every artifact before the release was written. */
  reproducedRuns: wholeNumber(2),
  /**
   * The variations that differed between those runs (older releases lack it). Empty: nothing
   * was varied, so the runs show only that the build repeats in one environment.
   */
  varied: z.optional(z.array(nonEmptyString())),
  /** Per-board sha256sum list (paths relative to the board folder). */
  hashes: relPath,
  provenance: z.strictObject({ path: relPath, sha256: hex64 }),
  artifacts: z
    .array(z.strictObject({ path: relPath, sha256: hex64, size: wholeNumber(0) }))
    .check(z.minLength(1)),
});

export const releaseManifestSchema = z
  .strictObject({
    schema: z.literal(RELEASE_SCHEMA, { error: `expected "${RELEASE_SCHEMA}"` }),
    tool: z.strictObject({ name: nonEmptyString(), version: nonEmptyString() }),
    boards: z.array(releaseBoardSchema).check(z.minLength(1)),
  })
  .check(
    z.superRefine((m, ctx) => {
      for (const { where, what, first } of repeatedNames(m.boards))
        ctx.addIssue({ code: 'custom', path: where, message: `${what} is named twice (first at ${first})` });
    }),
  );

interface RepeatedName {
  where: Array<string | number>;
  what: string;
  /** Where the name was first used. */
  first: string;
}

/**
 * Boards and files a manifest names more than once: one path would stand for two files
 * (the second entry's hash checked against the first's bytes, or one of them never read).
 */
function repeatedNames(boards: ReadonlyArray<z.output<typeof releaseBoardSchema>>): RepeatedName[] {
  // Each name with what it is and where it is used, in manifest order.
  const uses: Array<[key: string, where: Array<string | number>, what: string]> = [];
  for (const [i, b] of boards.entries()) {
    uses.push([`board ${b.board}`, ['boards', i, 'board'], `board ${JSON.stringify(b.board)}`]);
    uses.push([`file ${b.hashes}`, ['boards', i, 'hashes'], `path ${JSON.stringify(b.hashes)}`]);
    const prov = b.provenance.path;
    uses.push([`file ${prov}`, ['boards', i, 'provenance', 'path'], `path ${JSON.stringify(prov)}`]);
    for (const [j, a] of b.artifacts.entries())
      uses.push([`file ${a.path}`, ['boards', i, 'artifacts', j, 'path'], `path ${JSON.stringify(a.path)}`]);
  }
  const seen = new Map<string, string>([
    [`file ${RELEASE_MANIFEST}`, 'the release manifest'],
    [`file ${RELEASE_HASHES}`, 'the release hashes list'],
  ]);
  const repeated: RepeatedName[] = [];
  for (const [key, where, what] of uses) {
    const first = seen.get(key);
    if (first === undefined) seen.set(key, formatIssuePath(where));
    else repeated.push({ where, what, first });
  }
  return repeated;
}

export type ReleaseManifest = z.output<typeof releaseManifestSchema>;
export type ReleaseBoard = z.output<typeof releaseBoardSchema>;

/** Canonical bytes: boards and artifacts sorted, keys sorted, final newline. */
export function formatReleaseManifest(m: ReleaseManifest): string {
  const boards = [...m.boards]
    .sort((a, b) => comparePaths(a.board, b.board))
    .map((b) => ({ ...b, artifacts: [...b.artifacts].sort((x, y) => comparePaths(x.path, y.path)) }));
  return `${canonicalJson({ ...m, boards }, 2)}\n`;
}

export function parseReleaseManifest(text: string, file: string): ReleaseManifest {
  const hint =
    'this is not a reprorom release manifest, or it was damaged: rebuild it with `reprorom release`';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      [
        {
          file,
          line: 1,
          col: 1,
          message: `invalid JSON: ${err instanceof Error ? err.message : String(err)}`,
        },
      ],
      hint,
    );
  }
  const r = releaseManifestSchema.safeParse(value);
  if (!r.success) {
    throw new ConfigError(
      r.error.issues.map((i) => ({
        file,
        line: 1,
        col: 1,
        message: `${formatIssuePath(i.path)}: ${i.message}`,
      })),
      hint,
    );
  }
  return r.data;
}

/**
 * The files a release's signature must cover: everything verify trusts (the ROMs are
 * covered by their sha256 in the signed lists).
 */
export function signedFiles(m: ReleaseManifest): string[] {
  return [RELEASE_MANIFEST, RELEASE_HASHES, ...m.boards.flatMap((b) => [b.hashes, b.provenance.path])];
}
