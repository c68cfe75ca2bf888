/**
 * `reprorom ci circleci`: a CircleCI config (images → parallel shards → merge
 * and compare). Board jobs build against CircleCI's remote engine
 * (setup_remote_docker sets DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH).
 *
 * Built to survive real firmware builds: long steps may stay quiet for
 * NO_OUTPUT_TIMEOUT (CircleCI's default is 10 minutes; reprorom's heartbeat
 * keeps a live build well inside it); a board node that fails still hands its
 * run folder on (the build's status is kept and re-raised by the last step), and
 * the compare job requires the board job to be finished, `success` or `failed`,
 * so a mismatch is merged, compared and reported instead of skipping them.
 */
import { stringify } from 'yaml';
import {
  BUILD_PACKAGES,
  CACHE_DIR,
  COLLECT_SCRIPT,
  COMPARE_PACKAGES,
  compareScript,
  DEFAULT_RESOURCE_CLASS,
  fetchScript,
  generatedHeader,
  imageKeyFiles,
  imageKeyPrefix,
  imageScript,
  installScript,
  NO_OUTPUT_TIMEOUT,
  SHARD_DIR,
  STORE_DIR,
  setupScript,
  shardBuildScript,
  type WorkflowPlan,
} from './generate.js';
import { producersScript, storeKeyFiles, storeKeyPrefix } from './storeCache.js';

export const CIRCLECI_CONFIG_PATH = '.circleci/config.yml';

const KEY_FILE = '.reprorom-image-key';
const STORE_KEY_FILE = '.reprorom-store-key';
/** Where each parallel node puts its shard for the compare job (persist_to_workspace root). */
const SHARDS_ROOT = '/tmp/reprorom-shards';
/** The board build's exit status, kept so the run folder is handed on before the job fails. */
const STATUS_FILE = `${SHARD_DIR}/build-status`;

type Step = string | Record<string, unknown>;

/** What the jobs share: the plan, the cache keys and the commands that compute them. */
interface Parts {
  plan: WorkflowPlan;
  docker: Array<{ image: string }>;
  resourceClass: string;
  environment: Record<string, string>;
  start: (packages: readonly string[]) => Step[];
  /** Restores the images; fetches what building them again needs when the cache missed. */
  restoreImages: Step[];
  /** Restores the producer store, when the plan has one. */
  restoreStore: Step[];
}

const run = (name: string, command: string, extra: Record<string, string> = {}) => ({
  run: { name, command, ...extra },
});
const long = { no_output_timeout: NO_OUTPUT_TIMEOUT };

/**
 * CircleCI keys checksum one file: the sha256 of every file of `files` (GitHub `hashFiles`
 * patterns: `DIR/**` a folder, `**` the checkout, `!…` left out) into `keyFile`, in a stable order.
 */
export function keyFileCommand(files: readonly string[], keyFile: string): string {
  const list = files
    .filter((f) => !f.startsWith('!'))
    .map((f) =>
      f === '**'
        ? "find . -path ./.git -prune -o -type f -print | grep -v '^./.reprorom-'"
        : f.endsWith('/**')
          ? `find ${f.slice(0, -3)} -type f`
          : `printf '%s\\n' ${f}`,
    )
    .join('; ');
  return `{ ${list}; } | LC_ALL=C sort | xargs sha256sum > ${keyFile}`;
}

export function circleciConfig(plan: WorkflowPlan, resourceClass = DEFAULT_RESOURCE_CLASS): string {
  const key = `${imageKeyPrefix(plan)}{{ checksum "${KEY_FILE}" }}`;
  const storeKey = `${storeKeyPrefix(plan)}{{ checksum "${STORE_KEY_FILE}" }}`;
  const fetch = fetchScript(plan);
  const parts: Parts = {
    plan,
    docker: [{ image: plan.container }],
    resourceClass,
    environment: { REPROROM_CACHE: CACHE_DIR },
    start: (packages) => [
      'checkout',
      run('Install Debian packages', setupScript(packages)),
      run('Install reprorom', installScript(plan)),
    ],
    restoreImages: [
      run('Image cache key', keyFileCommand(imageKeyFiles(plan), KEY_FILE)),
      { restore_cache: { keys: [key] } },
      ...(fetch
        ? [
            run(
              'Fetch the offline package sets (only without cached images)',
              `if [ -z "$(ls -A ${CACHE_DIR}/images 2>/dev/null)" ]; then\n${fetch}\nfi`,
              long,
            ),
          ]
        : []),
    ],
    restoreStore: plan.store
      ? [
          run('Producer store cache key', keyFileCommand(storeKeyFiles(plan), STORE_KEY_FILE)),
          { restore_cache: { keys: [storeKey] } },
        ]
      : [],
  };
  const images = {
    docker: parts.docker,
    resource_class: resourceClass,
    environment: parts.environment,
    steps: [
      ...parts.start(BUILD_PACKAGES),
      ...parts.restoreImages,
      run('Build the images', imageScript(plan), long),
      { save_cache: { key, paths: [`${CACHE_DIR}/images`] } },
    ],
  };
  const producers = {
    docker: parts.docker,
    resource_class: resourceClass,
    environment: parts.environment,
    steps: [
      ...parts.start(BUILD_PACKAGES),
      'setup_remote_docker',
      ...parts.restoreImages,
      ...parts.restoreStore,
      // A store restored under this key already holds every producer: built from the same files.
      run(
        'Build the producers (unless the cache had them)',
        `if [ -d ${STORE_DIR}/v1 ]; then echo "producers: restored from the cache"; else\n${producersScript(plan)}\nfi`,
        long,
      ),
      // Kept once per key: when the restore above found it, this is a no-op.
      { save_cache: { key: storeKey, paths: [STORE_DIR] } },
    ],
  };
  const doc = {
    version: 2.1,
    jobs: {
      images,
      ...(plan.store ? { producers } : {}),
      boards: boardsJob(parts),
      compare: compareJob(parts),
    },
    workflows: { reprorom: { jobs: workflowJobs(plan) } },
  };
  return `${generatedHeader('circleci', plan, resourceClass)}${stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

function workflowJobs(plan: WorkflowPlan) {
  // With --branch, every job runs only for pushes to that branch; without, every branch builds
  // (CircleCI has no pull-request trigger of its own: a pull request is a branch push).
  const filters = plan.branch === undefined ? {} : { filters: { branches: { only: [plan.branch] } } };
  const after = (jobs: string[]) => ({ requires: jobs, ...filters });
  return [
    plan.branch === undefined ? 'images' : { images: { ...filters } },
    // Each shard restores the producers its boards need from the store; none waits on another shard.
    ...(plan.store ? [{ producers: after(['images']) }] : []),
    { boards: after(plan.store ? ['images', 'producers'] : ['images']) },
    // Also after failed board jobs: a mismatch is exactly when the comparison and report are needed.
    { compare: { requires: [{ boards: ['success', 'failed'] }], ...filters } },
  ];
}

function boardsJob({ plan, docker, resourceClass, environment, start, restoreImages, restoreStore }: Parts) {
  return {
    docker,
    resource_class: resourceClass,
    environment,
    parallelism: plan.shards,
    steps: [
      ...start(BUILD_PACKAGES),
      'setup_remote_docker',
      ...restoreImages,
      ...restoreStore,
      run(
        'Build this shard',
        [
          'SHARD=$((CIRCLE_NODE_INDEX + 1))',
          `mkdir -p ${SHARD_DIR}`,
          // A mismatch (1) or a failed board (4) still hands the run folder on; the last step fails the job.
          'status=0',
          `${shardBuildScript(plan, '$SHARD')} || status=$?`,
          `echo "$status" > ${STATUS_FILE}`,
        ].join('\n'),
        long,
      ),
      run(
        'Collect the run folder',
        `${COLLECT_SCRIPT}\nmkdir -p ${SHARDS_ROOT}\ncp -a ${SHARD_DIR} ${SHARDS_ROOT}/shard-$((CIRCLE_NODE_INDEX + 1))`,
        { when: 'always' },
      ),
      { store_test_results: { path: `${SHARD_DIR}/junit.xml` } },
      // Logs, manifests and artifacts of this node's runs, browsable in the job's Artifacts tab.
      { store_artifacts: { path: SHARD_DIR, destination: 'shard' } },
      { persist_to_workspace: { root: SHARDS_ROOT, paths: ['shard-*'] } },
      run(
        'Fail when the build failed',
        `status=$(cat ${STATUS_FILE} 2>/dev/null || echo 3)\nif [ "$status" -ne 0 ]; then echo "reprorom build exited with $status"; fi\nexit "$status"`,
      ),
    ],
  };
}

function compareJob({ plan, docker, environment, start }: Parts) {
  return {
    docker,
    resource_class: 'medium',
    environment,
    steps: [
      ...start(COMPARE_PACKAGES),
      { attach_workspace: { at: 'shards' } },
      // compare exits 1 on a mismatch: the results are stored first, then the last step fails the job.
      run(
        'Merge and compare',
        `status=0\n(\n${compareScript(plan, 'shards/*/runs/*')}\n) || status=$?\necho "$status" > compare-status`,
        long,
      ),
      { store_test_results: { path: 'results/junit.xml' } },
      { store_artifacts: { path: 'merged' } },
      { store_artifacts: { path: 'report' } },
      run(
        'Fail on a mismatch or an error',
        `status=$(cat compare-status 2>/dev/null || echo 3)\nexit "$status"`,
      ),
    ],
  };
}
