/**
 * The producer store in generated workflows: one job builds every producer board once
 * (`build --store`) and keeps the store folder in the CI platform's cache; every shard
 * restores that folder and passes `--store`, so a producer its boards pull in is restored
 * instead of built again, and no shard waits on another.
 *
 * The cache key covers everything a store key is made of (src/runs/store.ts storeFields):
 * the board definitions (boards/**), the sources (local source folders; a git, tarball or
 * Debian source is pinned by its hash in the board file), the inputs (board inputs are other
 * boards' runs; url and debian inputs are pinned by sha256 in the board file), the image ID
 * (made from pins/ and images/, and the offline package sets: imageKeyFiles), the tool
 * version (the key prefix: the installed commit, or package-lock.json), and each run index's
 * variations (the run count in the key prefix; the variations themselves come from the tool).
 * A too-broad key costs a cache miss, never a verdict: inside the folder each entry is found
 * by its exact store key, and one whose bytes changed is refused by the store's hash checks.
 */
import { imageKeyFiles, imageKeyPrefix, rr, STORE_DIR, type WorkflowPlan } from './generate.js';

/**
 * The files the store cache key hashes, as GitHub `hashFiles` patterns: `DIR/**` is a folder,
 * `**` the whole checkout (a board whose source is the workspace), `!.git/**` left out.
 */
export function storeKeyFiles(plan: WorkflowPlan): string[] {
  const sources = (plan.store?.sources ?? []).map((d) => (d === '.' ? '**' : `${d}/**`));
  const whole = sources.includes('**');
  return [...new Set([...imageKeyFiles(plan), 'boards/**', ...sources, ...(whole ? ['!.git/**'] : [])])];
}

/** The versioned prefix of the store cache key: tool version and run count (each index's variations). */
export function storeKeyPrefix(plan: WorkflowPlan): string {
  return `${imageKeyPrefix(plan).replace('reprorom-images-', 'reprorom-store-')}runs${plan.runs}-`;
}

/**
 * The producers job's build. Its exit status is only reported: a producer that fails or
 * disagrees is built again by the shards that need it, whose verdicts the compare job reads.
 */
export function producersScript(plan: WorkflowPlan): string {
  const producers = plan.store?.producers ?? [];
  return [
    `status=0`,
    `${rr(plan)} build ${producers.join(' ')} --runs ${plan.runs} --store ${STORE_DIR} --machine ci-producers || status=$?`,
    'echo "producers: reprorom build exited $status (the shards build any producer the store lacks)"',
  ].join('\n');
}
