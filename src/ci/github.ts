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
  setupScript,
  type WorkflowPlan,
} from './generate.js';

export const GITHUB_WORKFLOW_PATH = '.github/workflows/reprorom.yml';

const MISS = "steps.images.outputs.cache-hit != 'true'";

export function githubWorkflow(plan: WorkflowPlan): string {
  const key = `${imageKeyPrefix(plan)}\${{ hashFiles(${imageKeyFiles(plan)
    .map((f) => `'${f}'`)
    .join(', ')}) }}`;
  // The host's engine, through its socket: builds use the archive API, so the container needs nothing else.
  const engine = { image: plan.container, volumes: ['/var/run/docker.sock:/var/run/docker.sock'] };
  const start = (packages: readonly string[]) => [
    { uses: uses(ACTIONS.checkout) },
    { name: 'Install Debian packages', run: setupScript(packages) },
    { name: 'Install reprorom', run: installScript(plan) },
  ];
  const fetch = fetchScript(plan);
  const shards = Array.from({ length: plan.shards }, (_, i) => i + 1);
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
    env: { REPROROM_CACHE: CACHE_DIR },
    jobs: {
      images: {
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
      },
      boards: {
        name: 'Boards (shard ${{ matrix.shard }})',
        needs: 'images',
        'runs-on': 'ubuntu-latest',
        container: engine,
        'timeout-minutes': 180,
        strategy: { 'fail-fast': false, matrix: { shard: shards } },
        steps: [
          ...start(BUILD_PACKAGES),
          {
            name: 'Restore the images',
            id: 'images',
            uses: uses(ACTIONS.cacheRestore),
            with: { path: `${CACHE_DIR}/images`, key },
          },
          // Only when the cache is gone (evicted): the image is then built here, from the same pins.
          ...(fetch ? [{ name: 'Fetch the offline package sets', if: MISS, run: fetch }] : []),
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
      },
      compare: {
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
      },
    },
  };
  const versions = actionVersions();
  if (plan.install.kind === 'git')
    versions.set(actionRef(plan), 'reprorom, the commit given to --reprorom-from');
  const yaml = stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
  return `${generatedHeader('github', plan)}${commentVersions(yaml, versions)}`;
}
