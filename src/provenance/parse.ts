/**
 * Reads a provenance statement back into the build it describes, refusing any
 * statement that leaves out something a rebuild needs (pin narHash, image ID,
 * source hash, commands…): such a statement cannot be verified, only trusted.
 */

import * as z from 'zod/mini';
import { formatIssuePath } from '../hashes/runManifest.js';
import { ConfigError, type Problem } from '../util/errors.js';
import { matching, nonEmptyString, wholeNumber } from '../util/zod.js';
import { INPUT_PREFIX } from './inputs.js';
import type { ResourceDescriptor } from './resourceDescriptor.js';
import {
  hexToSri,
  NAR_DIGEST,
  type ProvenanceStatement,
  SLSA_PREDICATE,
  STATEMENT_TYPE,
  TREE_DIGEST,
} from './statement.js';

const hex64 = matching(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');
const atLeastOne = <T extends z.ZodMiniType>(item: T) => z.array(item).check(z.minLength(1));
const descriptor = z.object({
  name: nonEmptyString(),
  uri: z.optional(nonEmptyString()),
  digest: z.record(z.string(), z.string()),
  annotations: z.optional(z.record(z.string(), z.string())),
});

const statementSchema = z.object({
  _type: z.literal(STATEMENT_TYPE, { error: `expected "${STATEMENT_TYPE}"` }),
  subject: atLeastOne(z.object({ name: nonEmptyString(), digest: z.object({ sha256: hex64 }) })),
  predicateType: z.literal(SLSA_PREDICATE, { error: `expected "${SLSA_PREDICATE}"` }),
  predicate: z.object({
    buildDefinition: z.object({
      buildType: nonEmptyString(),
      externalParameters: z.object({
        board: nonEmptyString(),
        commands: atLeastOne(z.string()),
        env: z.record(z.string(), z.string()),
        sourceDateEpoch: wholeNumber(0),
        source: z.object({
          type: nonEmptyString(),
          package: z.optional(z.string()),
          version: z.optional(z.string()),
        }),
        pin: nonEmptyString(),
        extraPins: z.array(nonEmptyString()),
        image: nonEmptyString(),
      }),
      // Older statements have none: nothing was turned off then.
      internalParameters: z.optional(
        z.object({ variations: z.optional(z.object({ off: z.record(z.string(), z.string()) })) }),
      ),
      resolvedDependencies: atLeastOne(descriptor),
    }),
    runDetails: z.object({ builder: z.object({ id: nonEmptyString() }) }),
  }),
});

export interface DescribedPin {
  name: string;
  flake: string;
  narHash: string;
}

/** Everything a rebuild needs, as the statement states it. */
export interface DescribedBuild {
  board: string;
  commands: string[];
  env: Record<string, string>;
  sourceDateEpoch: number;
  source: {
    type: string;
    hash: string;
    commit?: string;
    /** A local source whose tree was not exactly its commit's (or in no git checkout). */
    dirty?: boolean;
    package?: string;
    version?: string;
  };
  pin: DescribedPin;
  extraPins: DescribedPin[];
  image: { name: string; id: string };
  subjects: Array<{ name: string; sha256: string }>;
  builder: string;
  /** Variations the build turned off, each with its reason. */
  variationsOff: Record<string, string>;
  /** The files placed in the source tree (`input/PATH` entries): another board's artifact or a pinned file. */
  inputs: DescribedInput[];
}

export interface DescribedInput {
  /** Where the build found it in its source tree, e.g. `payloads/seabios.elf`. */
  path: string;
  sha256: string;
  /** For another board's artifact: the producer and its artifact path. */
  board?: string;
  artifact?: string;
}

/** Parse and check completeness; every refusal names the missing or bad field (exit 2). */
export function parseProvenance(
  text: string,
  file: string,
): { statement: ProvenanceStatement; build: DescribedBuild } {
  const refuse = (messages: string[]): never => {
    const problems: Problem[] = messages.map((message) => ({ file, line: 1, col: 1, message }));
    throw new ConfigError(
      problems,
      'the provenance is incomplete or damaged: rebuild the release with `reprorom release`, or ask its publisher for a complete one',
    );
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return refuse([`invalid JSON: ${err instanceof Error ? err.message : String(err)}`]);
  }
  const parsed = statementSchema.safeParse(value);
  if (!parsed.success) {
    return refuse(parsed.error.issues.map((i) => `${formatIssuePath(i.path)}: ${i.message}`));
  }
  const s = parsed.data;
  const def = s.predicate.buildDefinition;
  const params = def.externalParameters;
  const deps = def.resolvedDependencies as ResourceDescriptor[];
  const problems: string[] = [];
  const { dep, field, pinOf } = dependencyReader(deps, problems);
  const src = dep('source', 'the source tree hash');
  const sourceHash = field(src, TREE_DIGEST, 'the source tree hash');
  const origin = deps.find((d) => d.name === 'source/git' || d.name === 'source/workspace');
  const commit = origin?.digest['gitCommit'];
  const dirty = src?.annotations?.['dirty'] === 'true';
  const pin = pinOf(params.pin);
  const extraPins = params.extraPins.map(pinOf);
  const img = dep(`image/${params.image}`, `the ID of image "${params.image}"`);
  const imageHex = field(img, 'sha256', `the ID of image "${params.image}"`);
  const inputs: DescribedInput[] = deps
    .filter((d) => d.name.startsWith(INPUT_PREFIX))
    .map((d) => {
      const board = d.annotations?.['board'];
      const artifact = d.annotations?.['artifact'];
      return {
        path: d.name.slice(INPUT_PREFIX.length),
        sha256: field(d, 'sha256', `the sha256 of input ${d.name.slice(INPUT_PREFIX.length)}`),
        ...(board ? { board } : {}),
        ...(artifact ? { artifact } : {}),
      };
    });
  if (problems.length > 0) refuse(problems);
  return {
    statement: s as ProvenanceStatement,
    build: {
      board: params.board,
      commands: params.commands,
      env: params.env,
      sourceDateEpoch: params.sourceDateEpoch,
      source: {
        type: params.source.type,
        hash: sourceHash,
        ...(commit ? { commit } : {}),
        ...(dirty ? { dirty } : {}),
        ...(params.source.package ? { package: params.source.package } : {}),
        ...(params.source.version ? { version: params.source.version } : {}),
      },
      pin,
      extraPins,
      image: { name: params.image, id: `sha256:${imageHex}` },
      subjects: s.subject.map((x) => ({ name: x.name, sha256: x.digest.sha256 })),
      builder: s.predicate.runDetails.builder.id,
      variationsOff: def.internalParameters?.variations?.off ?? {},
      inputs,
    },
  };
}

/**
 * Where two JSON values differ, as `path: a ≠ b` lines (for "the rebuilt
 * statement differs from the release's" messages).
 */
export function jsonDifferences(a: unknown, b: unknown, path = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const bothObjects = a !== null && b !== null && typeof a === 'object' && typeof b === 'object';
  if (bothObjects && Array.isArray(a) === Array.isArray(b)) {
    const keys = Array.isArray(a)
      ? [...Array(Math.max(a.length, (b as unknown[]).length)).keys()].map(String)
      : [...new Set([...Object.keys(a), ...Object.keys(b as object)])].sort();
    return keys.flatMap((k) =>
      jsonDifferences(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        Array.isArray(a) ? `${path}[${k}]` : path ? `${path}.${k}` : k,
      ),
    );
  }
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
  return [`${path || '(top level)'}: ${show(a)} ≠ ${show(b)}`];
}

/**
 * Reads the resolved dependencies by name: each missing entry or bad digest is added to
 * `problems` (all are reported at once), and the readers return '' in its place.
 */
function dependencyReader(deps: ResourceDescriptor[], problems: string[]) {
  const dep = (name: string, what: string): ResourceDescriptor | undefined => {
    const found = deps.find((d) => d.name === name);
    if (!found)
      problems.push(`predicate.buildDefinition.resolvedDependencies: no entry named "${name}" (${what})`);
    return found;
  };
  const field = (
    d: ResourceDescriptor | undefined,
    key: string,
    what: string,
    pattern = /^[0-9a-f]{64}$/,
  ): string => {
    if (!d) return '';
    const v = d.digest[key];
    const at = `predicate.buildDefinition.resolvedDependencies[${deps.indexOf(d)}] (${d.name}).digest.${key}`;
    if (v === undefined || v === '') problems.push(`${at} is missing: ${what}`);
    else if (!pattern.test(v)) problems.push(`${at} is "${v}": ${what}, expected 64 lowercase hex digits`);
    return v ?? '';
  };
  const pinOf = (name: string): DescribedPin => {
    const d = dep(`pin/${name}`, `the flake and narHash of pin "${name}"`);
    const hex = field(d, NAR_DIGEST, `the narHash of pin "${name}"`);
    if (d && !d.uri)
      problems.push(
        `predicate.buildDefinition.resolvedDependencies[${deps.indexOf(d)}] (${d.name}).uri is missing: the flake reference of pin "${name}"`,
      );
    return { name, flake: d?.uri ?? '', narHash: /^[0-9a-f]{64}$/.test(hex) ? hexToSri(hex) : '' };
  };
  return { dep, field, pinOf };
}
