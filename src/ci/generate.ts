/**
 * What a generated CI workflow needs to know about a workspace, and the shell
 * steps both CI systems share. The CI system is the distributed executor: one
 * job builds (or restores) the images, N jobs build one shard of the boards each
 * on their own machine, and a last job merges their runs, compares and reports.
 * reprorom itself only plans the shards and merges the results.
 *
 * Every job runs as root in a Debian bookworm container with Node 20: the
 * offline package set is made of Debian bookworm packages (apt must resolve
 * them), and nix's single-user store wants root. Builds reach the host's engine
 * through its socket (GitHub) or a remote engine (CircleCI): sources and
 * artifacts travel through the engine's archive API, never through bind mounts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBoards } from '../plan/plan.js';
import { UsageError } from '../util/errors.js';
import { withProducers } from '../workspace/inputs.js';
import type { Workspace } from '../workspace/load.js';
import { localSourceDirs, producerBoards } from './producers.js';

/** Where jobs get reprorom when the workspace does not depend on it: a GitHub repository at one commit. */
export interface ReproromSource {
  /** OWNER/NAME on GitHub. */
  repo: string;
  /** The full 40-hex commit. */
  commit: string;
}

export interface WorkflowPlan {
  shards: number;
  /** `--runs` of every shard build (2: two varied builds per board on each machine). */
  runs: number;
  /** Images the boards use, sorted. */
  images: string[];
  /** Offline package sets (local pins with a .deb lock): fetched before an image builds. */
  offlinePins: Array<{ name: string; dir: string }>;
  /**
   * How jobs get reprorom: the repository is reprorom itself (`self`), or has it
   * among its npm dependencies (`project`; `npm ci`, then `npx`), or jobs install
   * one pinned commit of it from its git repository (`git`): reprorom is not on
   * the npm registry, so a version number alone cannot be installed.
   */
  install: { kind: 'self' } | { kind: 'project' } | ({ kind: 'git' } & ReproromSource);
  /** The container every job runs in: `IMAGE@sha256:…` when pinned. */
  container: string;
  /**
   * The branch whose pushes run the workflow (GitHub: `on.push.branches`; CircleCI: every
   * job's `filters`). Undefined: CircleCI builds every branch (its pull requests are branch pushes).
   */
  branch?: string;
  /**
   * The producer store (storeCache.ts): the boards that feed another (built once by a
   * producers job, restored by the shards) and the local source folders its cache key hashes.
   */
  store?: { producers: string[]; sources: string[] };
}

/** The container jobs run in unless `--container` names another (a moving tag: pin it by digest). */
export const DEFAULT_CONTAINER = 'node:20-bookworm';
/** CircleCI's silence limit for the long steps: reprorom prints a heartbeat at least once a minute off a terminal. */
export const NO_OUTPUT_TIMEOUT = '30m';

/** `IMAGE@sha256:<64 hex>`: a container that cannot move under the workflow. */
export function containerPinned(image: string): boolean {
  return /^[^\s@]+@sha256:[0-9a-f]{64}$/.test(image);
}

/** `--container`: any image reference without spaces; a digest, if any, must be a whole sha256. */
export function parseContainer(text: string): string {
  if (!/^[a-z0-9][^\s]*$/.test(text) || (text.includes('@') && !containerPinned(text)))
    throw new UsageError(
      `--container ${text} is not an image reference (IMAGE[:TAG] or IMAGE@sha256:<64 hex digits>)`,
      'for example --container node:20-bookworm@sha256:…',
    );
  return text;
}

/** `--reprorom-from OWNER/NAME@COMMIT` (the full 40-hex commit: tags and branches move). */
export function parseReproromSource(text: string): ReproromSource {
  const m = /^([A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+)@([0-9a-f]{40})$/.exec(text);
  if (!m?.[1] || !m[2])
    throw new UsageError(
      `--reprorom-from ${text} is not OWNER/NAME@COMMIT with a full 40-hex commit`,
      'for example --reprorom-from example/reprorom@<the 40-hex commit to install>',
    );
  return { repo: m[1], commit: m[2] };
}
/** Image cache: outside the checkout so it is one absolute path in every job (cache entries record paths). */
export const CACHE_DIR = '/var/cache/reprorom';
/** The producer store every job uses (`--store`), cached between the jobs of a CI run. */
export const STORE_DIR = `${CACHE_DIR}/store`;
/** Each board job copies its run folder and JUnit file here (not hidden, unlike .reprorom/). */
export const SHARD_DIR = 'shard';

export const BUILD_PACKAGES = [
  'nix-bin',
  'busybox-static',
  'bash-static',
  'dpkg-dev',
  'xz-utils',
  'diffoscope-minimal',
];
export const COMPARE_PACKAGES = ['diffoscope-minimal'];

const NIX_CONF = [
  'experimental-features = nix-command flakes',
  'substituters =',
  'flake-registry =',
  'sandbox = false',
  // Jobs run as root in a container where nothing created Debian's nixbld group: build as root.
  'build-users-group =',
];

/** apt packages, and nix configured for offline flakes (idempotent: lines are added once). */
export function setupScript(packages: readonly string[]): string {
  const lines = ['apt-get update', `apt-get install -y --no-install-recommends ${packages.join(' ')}`];
  if (packages.includes('nix-bin')) {
    lines.push(
      'mkdir -p /etc/nix',
      `for line in ${NIX_CONF.map((l) => `'${l}'`).join(' ')}; do grep -qxF -- "$line" /etc/nix/nix.conf 2>/dev/null || echo "$line" >> /etc/nix/nix.conf; done`,
    );
  }
  return lines.join('\n');
}

export function installScript(plan: WorkflowPlan): string {
  // A git dependency is built by npm (its prepare script) from exactly that commit.
  return plan.install.kind === 'git'
    ? `npm install --global github:${plan.install.repo}#${plan.install.commit}`
    : 'npm ci';
}

/** The reprorom command line prefix in a job. */
export function rr(plan: WorkflowPlan): string {
  return plan.install.kind === 'git' ? 'reprorom' : 'npx --no-install reprorom';
}

/** The composite action (action.yml) as a GitHub `uses:` reference. */
export function actionRef(plan: WorkflowPlan): string {
  switch (plan.install.kind) {
    case 'self':
      return './';
    case 'project':
      return './node_modules/reprorom';
    case 'git':
      return `${plan.install.repo}@${plan.install.commit}`;
  }
}

/** The files an image is made from: the cache key hashes exactly these (plus the tool version). */
export function imageKeyFiles(plan: WorkflowPlan): string[] {
  return [
    'pins/*.yaml',
    'images/*.yaml',
    ...plan.offlinePins.map((p) => `${p.dir}/**`),
    ...(plan.install.kind === 'git' ? [] : ['package-lock.json']),
  ];
}

/** The versioned prefix of the image cache key. */
export function imageKeyPrefix(plan: WorkflowPlan): string {
  return `reprorom-images-${plan.install.kind === 'git' ? plan.install.commit.slice(0, 12) : 'project'}-`;
}

export function fetchScript(plan: WorkflowPlan): string {
  return plan.offlinePins.map((p) => `${rr(plan)} pin fetch ${p.name}`).join('\n');
}

export function imageScript(plan: WorkflowPlan): string {
  // --no-load: this job only fills the cache; board jobs load the archive into their own engine.
  return plan.images.map((i) => `${rr(plan)} image build ${i} --no-load`).join('\n');
}

/** One shard's build; `shard` is a shell or CI expression for I. */
export function shardBuildScript(plan: WorkflowPlan, shard: string): string {
  return `${rr(plan)} build --all --runs ${plan.runs} --shard ${shard}/${plan.shards} --machine ci-shard-${shard} --junit ${SHARD_DIR}/junit.xml${plan.store ? ` --store ${STORE_DIR}` : ''}`;
}

/** After the build, even a failed one: the run folder goes next to the JUnit file, ready to upload. */
export const COLLECT_SCRIPT = `mkdir -p ${SHARD_DIR}/runs\ncp -a .reprorom/runs/. ${SHARD_DIR}/runs/`;

/**
 * Merge every shard's run folders into one, compare them N-way (JUnit, GitHub
 * annotations), and write the HTML report; exits with compare's status.
 */
export function compareScript(plan: WorkflowPlan, shardsGlob: string): string {
  const r = rr(plan);
  return [
    // Explicit exits: the script must also stop right in a subshell whose status is kept (where `-e` is off).
    `${r} merge ${shardsGlob} --out merged || exit $?`,
    'status=0',
    // Mismatches the workspace declares expected (expectMismatch) pass; any other fails the job.
    `${r} compare merged --allow-expected --junit results/junit.xml --report report/diff || status=$?`,
    // 1 is a mismatch, already reported by compare; anything else is an error of its own.
    `${r} report merged --html report/index.html || { s=$?; [ "$s" -eq 1 ] || exit "$s"; }`,
    'exit $status',
  ].join('\n');
}

/**
 * Plan a workflow for a loaded workspace. Without `reproromFrom`, the workspace
 * must be reprorom or depend on it: a bare version would come from the npm
 * registry, where reprorom is not published.
 */
export function planWorkflow(
  ws: Workspace,
  opts: {
    shards: number;
    runs?: number;
    container?: string;
    reproromFrom?: ReproromSource;
    branch?: string;
  },
): WorkflowPlan {
  // The shards build what `build --all` builds (boards saying `all: false` stay out) and their producers.
  const built = withProducers(ws, selectBoards(ws, [], true));
  const images = [...new Set(built.flatMap((n) => ws.boards.get(n)?.value.image ?? []))].sort();
  const pins = new Set(
    images.flatMap((i) => {
      const def = ws.images.get(i)?.value;
      return def ? [def.pin, ...def.extraPins.map((e) => e.pin)] : [];
    }),
  );
  const offlinePins = [...pins].sort().flatMap((name) => {
    const pin = ws.pins.get(name)?.value;
    const m = pin ? /^path:(?:\.\/)?(.+?)\/?$/.exec(pin.flake) : null;
    // A local flake with a Debian lock is an offline package set: its .deb files are fetched first.
    return m?.[1] && existsSync(join(ws.root, m[1], 'debs.lock.json')) ? [{ name, dir: m[1] }] : [];
  });
  const producers = producerBoards(ws, built);
  const uses = usesReprorom(ws.root);
  let install: WorkflowPlan['install'];
  if (opts.reproromFrom) install = { kind: 'git', ...opts.reproromFrom };
  else if (uses) install = { kind: uses };
  else
    throw new UsageError(
      `${join(ws.root, 'package.json')} does not depend on reprorom, and reprorom is not on the npm registry`,
      'pass --reprorom-from OWNER/NAME@COMMIT (the repository and full commit jobs install), or add reprorom to package.json',
    );
  return {
    shards: opts.shards,
    runs: opts.runs ?? 2,
    images,
    offlinePins,
    install,
    container: opts.container ?? DEFAULT_CONTAINER,
    ...(opts.branch === undefined ? {} : { branch: opts.branch }),
    // Only a graph has producers to share between shards.
    ...(producers.length > 0 ? { store: { producers, sources: localSourceDirs(ws, built) } } : {}),
  };
}

/** The workspace's own package.json is reprorom, or has it: jobs use that version. */
function usesReprorom(root: string): 'self' | 'project' | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      name?: unknown;
      dependencies?: Record<string, unknown>;
      devDependencies?: Record<string, unknown>;
    };
    if (pkg.name === 'reprorom') return 'self';
    return pkg.dependencies?.['reprorom'] || pkg.devDependencies?.['reprorom'] ? 'project' : undefined;
  } catch {
    return undefined;
  }
}

/** CircleCI's machine size for the image and board jobs unless `--resource-class` names another. */
export const DEFAULT_RESOURCE_CLASS = 'large';

/** The first line of a generated file: the command that writes it again, options included. */
export function generatedHeader(
  system: 'github' | 'circleci',
  plan: WorkflowPlan,
  resourceClass = DEFAULT_RESOURCE_CLASS,
): string {
  const args = ['reprorom', 'ci', system, '--shards', String(plan.shards)];
  // Always written when known: regenerating on another branch must give the same file.
  if (plan.branch !== undefined) args.push('--branch', plan.branch);
  if (plan.container !== DEFAULT_CONTAINER) args.push('--container', plan.container);
  if (plan.install.kind === 'git')
    args.push('--reprorom-from', `${plan.install.repo}@${plan.install.commit}`);
  if (system === 'circleci' && resourceClass !== DEFAULT_RESOURCE_CLASS)
    args.push('--resource-class', resourceClass);
  return `# Generated by \`${args.join(' ')}\`; regenerate instead of editing.\n`;
}
