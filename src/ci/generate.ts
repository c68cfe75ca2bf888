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
import type { Workspace } from '../workspace/load.js';

export interface WorkflowPlan {
  shards: number;
  /** `--runs` of every shard build (2: two varied builds per board on each machine). */
  runs: number;
  /** Images the boards use, sorted. */
  images: string[];
  /** Offline package sets (local pins with a .deb lock): fetched before an image builds. */
  offlinePins: Array<{ name: string; dir: string }>;
  /**
   * How jobs get reprorom: the repository's own npm dependencies (`npm ci`,
   * then `npx`), or a global install of one version.
   */
  install: { kind: 'project' } | { kind: 'global'; version: string };
}

/** The container every job runs in. */
export const CONTAINER = 'node:20-bookworm';
/** Image cache: outside the checkout so it is one absolute path in every job (cache entries record paths). */
export const CACHE_DIR = '/var/cache/reprorom';
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
  return plan.install.kind === 'project' ? 'npm ci' : `npm install --global reprorom@${plan.install.version}`;
}

/** The reprorom command line prefix in a job. */
export function rr(plan: WorkflowPlan): string {
  return plan.install.kind === 'project' ? 'npx --no-install reprorom' : 'reprorom';
}

/** The files an image is made from: the cache key hashes exactly these (plus the tool version). */
export function imageKeyFiles(plan: WorkflowPlan): string[] {
  return [
    'pins/*.yaml',
    'images/*.yaml',
    ...plan.offlinePins.map((p) => `${p.dir}/**`),
    ...(plan.install.kind === 'project' ? ['package-lock.json'] : []),
  ];
}

/** The versioned prefix of the image cache key. */
export function imageKeyPrefix(plan: WorkflowPlan): string {
  return `reprorom-images-${plan.install.kind === 'project' ? 'project' : plan.install.version}-`;
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
  return `${rr(plan)} build --all --runs ${plan.runs} --shard ${shard}/${plan.shards} --machine ci-shard-${shard} --junit ${SHARD_DIR}/junit.xml`;
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
    `${r} merge ${shardsGlob} --out merged`,
    'status=0',
    `${r} compare merged --junit results/junit.xml --report report/diff || status=$?`,
    // 1 is a mismatch, already reported by compare; anything else is an error of its own.
    `${r} report merged --html report/index.html || [ $? -eq 1 ]`,
    'exit $status',
  ].join('\n');
}

/** Plan a workflow for a loaded workspace. */
export function planWorkflow(
  ws: Workspace,
  opts: { shards: number; runs?: number; toolVersion: string },
): WorkflowPlan {
  const images = [...new Set([...ws.boards.values()].map((b) => b.value.image))].sort();
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
  return {
    shards: opts.shards,
    runs: opts.runs ?? 2,
    images,
    offlinePins,
    install: usesReprorom(ws.root) ? { kind: 'project' } : { kind: 'global', version: opts.toolVersion },
  };
}

/** The workspace's own package.json has reprorom (or is reprorom): jobs use that version. */
function usesReprorom(root: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      name?: unknown;
      dependencies?: Record<string, unknown>;
      devDependencies?: Record<string, unknown>;
    };
    return (
      pkg.name === 'reprorom' ||
      Boolean(pkg.dependencies?.['reprorom']) ||
      Boolean(pkg.devDependencies?.['reprorom'])
    );
  } catch {
    return false;
  }
}
