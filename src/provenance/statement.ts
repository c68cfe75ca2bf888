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
import type { ResourceDescriptor } from './resourceDescriptor.js';

export const PROVENANCE_FILE = 'provenance.json';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PREDICATE = 'https://slsa.dev/provenance/v1';
/**
 * The build type and the builder are named under the project's own repository URL (the
 * `repository` of package.json; a unit test keeps the two equal), never by a registry package
 * name that anyone could claim: reprorom is not on the npm registry. The build type is the
 * document, in this repository and in the package, that says how to rebuild from a statement
 * (docs/buildtypes/board-v1.md); the builder is the repository at the release tag `vVERSION`.
 */
export const PROJECT_REPOSITORY = 'https://github.com/reprorom/reprorom';
export const BUILD_TYPE_DOC = 'docs/buildtypes/board-v1.md';
export const BUILD_TYPE = `${PROJECT_REPOSITORY}/blob/main/${BUILD_TYPE_DOC}`;
export const BUILDER_PREFIX = `${PROJECT_REPOSITORY}@v`;
/** Digest keys of our own (in-toto reserves `sha256` for the sha256 of the bytes themselves). */
export const TREE_DIGEST = 'reproromTreeSha256';
export const NAR_DIGEST = 'nixNarSha256';
/** The media type whose sha256 an image ID is (Docker/OCI image config). */
export const IMAGE_CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';

/**
 * Environment variables the varied runs change on purpose (see runEnv): they
 * describe one run, not the build, so they stay out of the statement.
 */
export const VARIED_ENV = ['LANG', 'LC_ALL', 'MAKEFLAGS', 'REPROROM_JOBS', 'TZ'] as const;

/**
 * The builder's side of the variations: which were turned off for this build and why
 * (the same for every run of a build). What each run varied, and what it could not
 * apply, stays in its manifest.json: statements of agreeing runs stay identical.
 */
export interface InternalParameters {
  /**
   * `varied`, in a release's statement only: the variations that differed between the runs
   * that agreed (empty: nothing was varied, the weaker claim that the build repeats).
   */
  variations: { off: Record<string, string>; varied?: string[] };
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
      internalParameters: InternalParameters;
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
  // A path flake (`path:./pins/offline`) is relative to the workspace the board file is in.
  const relative = /^path:(?!\/)/.test(pin.flake);
  return {
    name: `pin/${pin.name}`,
    uri: pin.flake,
    digest: { [NAR_DIGEST]: sriToHex(pin.narHash) ?? '' },
    ...(relative ? { annotations: { relativeTo: 'workspace' } } : {}),
  };
}

type ManifestSource = ManifestInput['source'];

/** The tree the build saw (reprorom's tree hash), then where it was published, by the publisher's own digests. */
export function sourceDependencies(source: ManifestSource): ResourceDescriptor[] {
  const tree: ResourceDescriptor = {
    name: 'source',
    digest: { [TREE_DIGEST]: source.hash },
    ...(source.type === 'local' ? { annotations: { dirty: String(source.dirty ?? true) } } : {}),
  };
  const origin: ResourceDescriptor[] = [];
  if (source.type === 'debian-source' && source.package && source.version) {
    const uri = `pkg:deb/debian/${source.package}@${source.version}?arch=source`;
    for (const [file, sha256] of Object.entries(source.files ?? {}).sort(([a], [b]) => comparePaths(a, b)))
      origin.push({ name: `source/${file}`, uri, digest: { sha256 } });
  } else if (source.type === 'tarball' && source.url && source.sha256) {
    origin.push({ name: 'source/tarball', uri: source.url, digest: { sha256: source.sha256 } });
  } else if (source.type === 'git' && source.url && source.commit) {
    origin.push({ name: 'source/git', uri: source.url, digest: { gitCommit: source.commit } });
  } else if (source.type === 'local' && source.commit) {
    origin.push({
      name: 'source/workspace',
      digest: { gitCommit: source.commit },
      annotations: { path: source.path ?? '.', dirty: String(source.dirty ?? true) },
    });
  }
  return [tree, ...origin];
}

/** Subjects of a run folder: the manifest's artifact paths (relative to the folder holding the statement). */
export function runSubjects(manifest: ManifestInput): Subject[] {
  return manifest.artifacts.map((a) => ({ name: a.path, digest: { sha256: a.sha256 } }));
}

/**
 * The statement for a manifest. `subjects` defaults to the run's artifacts; a
 * release passes its own names (relative to its board folder) and `variedRuns`, what its
 * agreeing runs varied (see InternalParameters).
 */
export function provenanceStatement(
  input: ManifestInput,
  subjects = runSubjects(input),
  variedRuns?: readonly string[],
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
        internalParameters: {
          variations: {
            off: { ...(m.variations.off ?? {}) },
            ...(variedRuns ? { varied: [...variedRuns] } : {}),
          },
        },
        resolvedDependencies: [
          ...sourceDependencies(m.source),
          pinDependency(m.pin),
          ...m.extraPins.map(pinDependency),
          {
            name: `image/${m.image.name}`,
            digest: { sha256: m.image.id.replace(/^sha256:/, '') },
            annotations: { mediaType: IMAGE_CONFIG_MEDIA_TYPE },
          },
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
