/**
 * The provenance of one board build as an in-toto Statement v1 with a SLSA
 * provenance v1 predicate. It describes *what* was built from *what*, never
 * *when* or *where*: no run id, no timestamps, no varied hostname/uid/locale.
 * So two runs that produce the same artifacts produce the same bytes, and a
 * verifier can rebuild and compare statements as well as ROMs.
 */
import { join } from 'node:path';
import { comparePaths } from '../hashes/artifactPath.js';
import { type ManifestInput, manifestSchema } from '../hashes/runManifest.js';
import { canonicalJson } from '../image/digest.js';
import { writeFileAtomic } from '../util/atomic.js';
import { inputDependencies, patchDependencies } from './inputs.js';

export const PROVENANCE_FILE = 'provenance.json';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PREDICATE = 'https://slsa.dev/provenance/v1';
export const BUILD_TYPE = 'https://reprorom.dev/buildtypes/board/v1';
export const BUILDER_PREFIX = 'https://reprorom.dev/builder@v';

/**
 * Environment variables the varied runs change on purpose (see runEnv): they
 * describe one run, not the build, so they stay out of the statement.
 */
export const VARIED_ENV = ['LANG', 'LC_ALL', 'MAKEFLAGS', 'REPROROM_JOBS', 'TZ'] as const;

export interface ResourceDescriptor {
  name: string;
  uri?: string;
  digest: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Subject {
  name: string;
  digest: { sha256: string };
}

export interface ExternalParameters {
  board: string;
  commands: string[];
  env: Record<string, string>;
  sourceDateEpoch: number;
  source: { type: string; package?: string; version?: string; patches?: string };
  pin: string;
  extraPins: string[];
  image: string;
}

export interface ProvenanceStatement {
  _type: typeof STATEMENT_TYPE;
  subject: Subject[];
  predicateType: typeof SLSA_PREDICATE;
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: ExternalParameters;
      resolvedDependencies: ResourceDescriptor[];
    };
    runDetails: { builder: { id: string; version: Record<string, string> } };
  };
}

/** `sha256-<base64>` (nix's SRI form) → lowercase hex, the in-toto digest form. */
export function sriToHex(sri: string): string | undefined {
  const m = /^sha256-([A-Za-z0-9+/]{43}=)$/.exec(sri);
  return m?.[1] ? Buffer.from(m[1], 'base64').toString('hex') : undefined;
}

/** Lowercase hex → `sha256-<base64>`, as pins/*.yaml spell a narHash. */
export function hexToSri(hex: string): string {
  return `sha256-${Buffer.from(hex, 'hex').toString('base64')}`;
}

function pinDependency(pin: { name: string; flake: string; narHash: string }): ResourceDescriptor {
  return { name: `pin/${pin.name}`, uri: pin.flake, digest: { sha256: sriToHex(pin.narHash) ?? '' } };
}

function sourceDependency(source: {
  type: string;
  hash: string;
  commit?: string | undefined;
  package?: string | undefined;
  version?: string | undefined;
}): ResourceDescriptor {
  const uri =
    source.type === 'debian-source' && source.package && source.version
      ? `pkg:deb/debian/${source.package}@${source.version}?arch=source`
      : undefined;
  return {
    name: 'source',
    ...(uri ? { uri } : {}),
    digest: { sha256: source.hash, ...(source.commit ? { gitCommit: source.commit } : {}) },
    annotations: { digest: 'sha256 of the canonical listing of the source tree (reprorom tree hash)' },
  };
}

/** Subjects of a run folder: the manifest's artifact paths (relative to the folder holding the statement). */
export function runSubjects(manifest: ManifestInput): Subject[] {
  return manifest.artifacts.map((a) => ({ name: a.path, digest: { sha256: a.sha256 } }));
}

/**
 * The statement for a manifest. `subjects` defaults to the run's artifacts; a
 * release passes its own names (relative to its board folder).
 */
export function provenanceStatement(
  input: ManifestInput,
  subjects = runSubjects(input),
): ProvenanceStatement {
  const m = manifestSchema.parse(input);
  const varied = new Set<string>(VARIED_ENV);
  const env = Object.fromEntries(Object.entries(m.env).filter(([k]) => !varied.has(k)));
  return {
    _type: STATEMENT_TYPE,
    subject: [...subjects].sort((a, b) => comparePaths(a.name, b.name)),
    predicateType: SLSA_PREDICATE,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          board: m.board,
          commands: m.commands,
          env,
          sourceDateEpoch: m.sourceDateEpoch,
          source: {
            type: m.source.type,
            ...(m.source.package ? { package: m.source.package } : {}),
            ...(m.source.version ? { version: m.source.version } : {}),
            ...(m.source.patches ? { patches: m.source.patches.policy } : {}),
          },
          pin: m.pin.name,
          extraPins: m.extraPins.map((p) => p.name),
          image: m.image.name,
        },
        resolvedDependencies: [
          sourceDependency(m.source),
          pinDependency(m.pin),
          ...m.extraPins.map(pinDependency),
          { name: `image/${m.image.name}`, digest: { sha256: m.image.id.replace(/^sha256:/, '') } },
          ...patchDependencies(m.source),
          ...inputDependencies(m.inputs),
        ],
      },
      runDetails: {
        builder: { id: `${BUILDER_PREFIX}${m.tool.version}`, version: { [m.tool.name]: m.tool.version } },
      },
    },
  };
}

/** Canonical bytes: keys sorted at every level, two-space JSON, final newline. */
export function formatStatement(statement: ProvenanceStatement): string {
  return `${canonicalJson(statement, 2)}\n`;
}

/** Write `dir/provenance.json` for a run folder (called beside writeManifest); returns its path. */
export async function writeProvenance(dir: string, manifest: ManifestInput): Promise<string> {
  const path = join(dir, PROVENANCE_FILE);
  await writeFileAtomic(path, formatStatement(provenanceStatement(manifest)));
  return path;
}
