/**
 * `reprorom ci github`: a GitHub Actions workflow (images → shard matrix → merge
 * and compare). Every action is pinned to a commit (its version in a comment),
 * the board jobs build through reprorom's own composite action (action.yml),
 * and one run per branch or pull request goes at a time.
 */
import { stringify } from 'yaml';
import { ACTIONS, actionVersions, commentVersions, uses } from './actions.js';
import {
  actionRef,
  BUILD_PACKAGES,
  CACHE_DIR,
  COLLECT_SCRIPT,
  COMPARE_PACKAGES,
  compareScript,
  fetchScript,
  generatedHeader,
  imageKeyFiles,
  imageKeyPrefix,
  imageScript,
  installScript,
  SHARD_DIR,
  STORE_DIR,
  setupScript,
  type WorkflowPlan,
} from './generate.js';
import { producersScript, storeKeyFiles, storeKeyPrefix } from './storeCache.js';

export const GITHUB_WORKFLOW_PATH = '.github/workflows/reprorom.yml';

const MISS = "steps.images.outputs.cache-hit != 'true'";

type Step = Record<string, unknown>;

/** What every job's steps start with, and the keys and scripts the jobs share. */
interface Parts {
  plan: WorkflowPlan;
  key: string;
  storeKey: string;
  start: (packages: readonly string[]) => Step[];
  fetch: string;
  /** The host's engine, through its socket: builds use the archive API, so the container needs nothing else. */
  engine: { image: string; volumes: string[] };
}

const hashFiles = (prefix: string, files: readonly string[]) =>
  `${prefix}\${{ hashFiles(${files.map((f) => `'${f}'`).join(', ')}) }}`;

export function githubWorkflow(plan: WorkflowPlan): string {
  const parts: Parts = {
    plan,
    key: hashFiles(imageKeyPrefix(plan), imageKeyFiles(plan)),
    storeKey: hashFiles(storeKeyPrefix(plan), storeKeyFiles(plan)),
    start: (packages) => [
      { uses: uses(ACTIONS.checkout) },
      { name: 'Install Debian packages', run: setupScript(packages) },
      { name: 'Install reprorom', run: installScript(plan) },
    ],
    fetch: fetchScript(plan),
    engine: { image: plan.container, volumes: ['/var/run/docker.sock:/var/run/docker.sock'] },
  };
  const doc = {
    name: 'reprorom',
    // Pushes to the chosen branch (--branch, default the checkout's), every pull request, by hand.
    on: {
      push: plan.branch === undefined ? {} : { branches: [plan.branch] },
      pull_request: {},
      workflow_dispatch: {},
    },
    permissions: { contents: 'read' },
    // One run per branch or pull request: a new push to a pull request cancels its older run; pushes queue.
    concurrency: {
      group: 'reprorom-${{ github.ref }}',
      'cancel-in-progress': "${{ github.event_name == 'pull_request' }}",
    },
    env: { REPROROM_CACHE: CACHE_DIR, ...(plan.store ? { REPROROM_STORE: STORE_DIR } : {}) },
    jobs: {
      images: imagesJob(parts),
      ...(plan.store ? { producers: producersJob(parts) } : {}),
      boards: boardsJob(parts),
      compare: compareJob(parts),
    },
  };
  const versions = actionVersions();
  if (plan.install.kind === 'git')
    versions.set(actionRef(plan), 'reprorom, the commit given to --reprorom-from');
  const yaml = stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
  return `${generatedHeader('github', plan)}${commentVersions(yaml, versions)}`;
}

function imagesJob({ plan, key, start, fetch }: Parts) {
  return {
    name: 'Images (build, or restore from the cache)',
    'runs-on': 'ubuntu-latest',
    container: { image: plan.container },
    'timeout-minutes': 120,
    steps: [
      ...start(BUILD_PACKAGES),
      {
        name: 'Image cache',
        id: 'images',
        uses: uses(ACTIONS.cache),
        with: { path: `${CACHE_DIR}/images`, key },
      },
      ...(fetch ? [{ name: 'Fetch the offline package sets', if: MISS, run: fetch }] : []),
      { name: 'Build the images', run: imageScript(plan) },
    ],
  };
}

/** A board job's first steps: the images, and the store, from the cache. */
function restoreSteps({ key, storeKey, start, fetch, plan }: Parts): Step[] {
  return [
    ...start(BUILD_PACKAGES),
    {
      name: 'Restore the images',
      id: 'images',
      uses: uses(ACTIONS.cacheRestore),
      with: { path: `${CACHE_DIR}/images`, key },
    },
    // Only when the cache is gone (evicted): the image is then built here, from the same pins.
    ...(fetch ? [{ name: 'Fetch the offline package sets', if: MISS, run: fetch }] : []),
    ...(plan.store
      ? [
          {
            name: 'Restore the producer store',
            id: 'store',
            uses: uses(ACTIONS.cacheRestore),
            with: { path: STORE_DIR, key: storeKey },
          },
        ]
      : []),
  ];
}

/** Every producer board built once (or found in the cache), kept in the store for the shards. */
function producersJob(parts: Parts) {
  return {
    name: 'Producers (build once, keep in the store)',
    needs: 'images',
    'runs-on': 'ubuntu-latest',
    container: parts.engine,
    'timeout-minutes': 180,
    steps: [
      ...restoreSteps(parts),
      {
        name: 'Build the producers',
        if: "steps.store.outputs.cache-hit != 'true'",
        run: producersScript(parts.plan),
      },
      {
        name: 'Save the producer store',
        if: "steps.store.outputs.cache-hit != 'true'",
        uses: uses(ACTIONS.cacheSave),
        with: { path: STORE_DIR, key: parts.storeKey },
      },
    ],
  };
}

function boardsJob(parts: Parts) {
  const { plan } = parts;
  return {
    name: 'Boards (shard ${{ matrix.shard }})',
    // Each shard restores the producers its boards need; none waits on another shard.
    needs: plan.store ? ['images', 'producers'] : 'images',
    // A failed producers job only costs time: the shards then build the producers themselves.
    ...(plan.store ? { if: "${{ !cancelled() && needs.images.result == 'success' }}" } : {}),
    'runs-on': 'ubuntu-latest',
    container: parts.engine,
    'timeout-minutes': 180,
    strategy: { 'fail-fast': false, matrix: { shard: Array.from({ length: plan.shards }, (_, i) => i + 1) } },
    steps: [
      ...restoreSteps(parts),
      {
        name: 'Build this shard',
        id: 'build',
        uses: actionRef(plan),
        with: {
          runs: String(plan.runs),
          shard: `\${{ matrix.shard }}/${plan.shards}`,
          machine: 'ci-shard-${{ matrix.shard }}',
          junit: `${SHARD_DIR}/junit.xml`,
        },
      },
      {
        name: 'Verdict',
        if: 'always()',
        env: {
          VERDICT: '${{ steps.build.outputs.verdict }}',
          RUN_FOLDER: '${{ steps.build.outputs.run-folder }}',
        },
        run: 'echo "shard ${{ matrix.shard }}: ${VERDICT:-no verdict} ${RUN_FOLDER:+($RUN_FOLDER)}"',
      },
      { name: 'Collect the run folder', if: 'always()', run: COLLECT_SCRIPT },
      {
        name: 'Upload the run folder',
        if: 'always()',
        uses: uses(ACTIONS.uploadArtifact),
        with: { name: 'shard-${{ matrix.shard }}', path: SHARD_DIR, 'if-no-files-found': 'error' },
      },
    ],
  };
}

function compareJob({ plan, start }: Parts) {
  return {
    name: 'Merge, compare and report',
    needs: 'boards',
    if: '${{ !cancelled() }}',
    'runs-on': 'ubuntu-latest',
    container: { image: plan.container },
    'timeout-minutes': 60,
    steps: [
      ...start(COMPARE_PACKAGES),
      { uses: uses(ACTIONS.downloadArtifact), with: { pattern: 'shard-*', path: 'shards' } },
      { name: 'Merge and compare', run: compareScript(plan, 'shards/*/runs/*') },
      {
        name: 'Upload ROMs, manifests, logs and reports',
        if: 'always()',
        uses: uses(ACTIONS.uploadArtifact),
        with: { name: 'reprorom-results', path: 'merged\nreport\nresults' },
      },
    ],
  };
}
