/** `reprorom ci github|circleci`: write a sharded CI workflow for this workspace. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILDER_ID } from '../../attest/threshold.js';
import { currentBranch, parseBranch } from '../../ci/branch.js';
import { CIRCLECI_CONFIG_PATH, circleciConfig } from '../../ci/circleci.js';
import {
  containerPinned,
  DEFAULT_RESOURCE_CLASS,
  parseContainer,
  parseReproromSource,
  planWorkflow,
} from '../../ci/generate.js';
import { GITHUB_WORKFLOW_PATH, githubWorkflow } from '../../ci/github.js';
import {
  circleciRebuilderConfig,
  DEFAULT_REBUILD_SCHEDULE,
  GITHUB_REBUILDER_PATH,
  githubRebuilderWorkflow,
  type RebuilderPlan,
  releaseUrlProblem,
  scheduleProblem,
} from '../../ci/rebuilder.js';
import { createFileAtomic, writeFileAtomic } from '../../util/atomic.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { printable } from '../../util/printable.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import { printLine, printOutput, writeOut } from '../output.js';

/** `--rebuilder`'s options checked, or undefined without --rebuilder (and none of its options). */
function rebuilderOptions(opts: CiCliOptions): RebuilderPlan | undefined {
  const hint =
    'reprorom ci github --rebuilder --release-url https://…/release.tar.gz --builder-id NAME [--schedule CRON]';
  if (!opts.rebuilder) {
    if (opts.releaseUrl !== undefined || opts.builderId !== undefined || opts.schedule !== undefined)
      throw new UsageError('--release-url, --builder-id and --schedule go with --rebuilder', hint);
    return undefined;
  }
  if (opts.releaseUrl === undefined || opts.builderId === undefined)
    throw new UsageError('--rebuilder needs --release-url URL and --builder-id NAME', hint);
  const urlProblem = releaseUrlProblem(opts.releaseUrl);
  if (urlProblem) throw new UsageError(`--release-url ${printable(opts.releaseUrl)}: ${urlProblem}`, hint);
  if (!BUILDER_ID.test(opts.builderId))
    throw new UsageError(
      `--builder-id ${printable(opts.builderId)} is not a plain name`,
      'use letters, digits and ._@:/-',
    );
  const schedule = opts.schedule ?? DEFAULT_REBUILD_SCHEDULE;
  const cronProblem = scheduleProblem(schedule);
  if (cronProblem) throw new UsageError(`--schedule ${printable(schedule)}: ${cronProblem}`, hint);
  return { releaseUrl: opts.releaseUrl, builderId: opts.builderId, schedule };
}

export async function runCiGenerate(system: 'github' | 'circleci', opts: CiCliOptions): Promise<number> {
  const rebuilder = rebuilderOptions(opts);
  const shards = Number(opts.shards);
  if (!/^\d+$/.test(opts.shards) || shards < 1 || shards > 64)
    throw new UsageError(
      `--shards ${opts.shards} is not a whole number from 1 to 64`,
      'for example --shards 4',
    );
  const container = opts.container === undefined ? undefined : parseContainer(opts.container);
  const reproromFrom = opts.reproromFrom === undefined ? undefined : parseReproromSource(opts.reproromFrom);
  const resourceClass = opts.resourceClass ?? DEFAULT_RESOURCE_CLASS;
  if (!/^[a-z0-9][a-z0-9.+_/-]*$/.test(resourceClass))
    throw new UsageError(
      `--resource-class ${resourceClass} is not a CircleCI resource class`,
      'for example --resource-class xlarge',
    );
  const ws = await loadValidWorkspace(opts.workspace);
  if (ws.boards.size === 0)
    throw new UsageError(`the workspace ${ws.root} has no boards`, 'add boards/NAME.yaml first');
  // GitHub runs on pushes to one branch: the one named, else the checkout's own (never a guessed
  // "main"). CircleCI builds every branch unless one is named.
  const branch =
    opts.branch !== undefined
      ? parseBranch(opts.branch)
      : system === 'github' || rebuilder
        ? await currentBranch(ws.root)
        : undefined;
  const plan = planWorkflow(ws, {
    shards,
    ...(container ? { container } : {}),
    ...(reproromFrom ? { reproromFrom } : {}),
    ...(branch === undefined ? {} : { branch }),
  });
  const warnings: string[] = [];
  if (!containerPinned(plan.container))
    warnings.push(
      `the container ${plan.container} is a moving tag; pin it with --container ${plan.container.split('@')[0]}@sha256:<digest>`,
    );
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const text = rebuilder
    ? system === 'github'
      ? githubRebuilderWorkflow(plan, rebuilder)
      : circleciRebuilderConfig(plan, rebuilder, resourceClass)
    : system === 'github'
      ? githubWorkflow(plan)
      : circleciConfig(plan, resourceClass);
  const result = (file: string | null, written: boolean) => ({
    schema: 'reprorom.ci/v1' as const,
    ok: true as const,
    system,
    file,
    written,
    branch: branch ?? null,
    ...(file === null ? { text } : {}),
    warnings,
  });
  if (opts.stdout) {
    if (opts.json) printOutput('ci', result(null, false));
    else writeOut(text);
    return ExitCode.ok;
  }
  // The default path is the CI system's own, inside the workspace; --out is relative to the current folder.
  const defaultPath =
    system === 'github' ? (rebuilder ? GITHUB_REBUILDER_PATH : GITHUB_WORKFLOW_PATH) : CIRCLECI_CONFIG_PATH;
  const out = opts.out ?? join(ws.root, defaultPath);
  let written = true;
  if (opts.force) await writeFileAtomic(out, text);
  else if (!(await createFileAtomic(out, text))) {
    // A workflow someone edited (or another file at that path) is never replaced silently.
    if (!(await sameText(out, text)))
      throw new UsageError(
        `${out} already exists and differs from the generated ${system === 'github' ? 'workflow' : 'config'}`,
        'pass --force to replace it, --out FILE to write elsewhere, or --stdout to compare first',
      );
    written = false;
  }
  if (opts.json) printOutput('ci', result(out, written));
  else printLine(out);
  return ExitCode.ok;
}

export interface CiCliOptions {
  workspace: string;
  shards: string;
  out?: string;
  stdout?: boolean;
  force?: boolean;
  /** IMAGE[:TAG] or IMAGE@sha256:… */
  container?: string;
  /** OWNER/NAME@COMMIT */
  reproromFrom?: string;
  /** CircleCI only. */
  resourceClass?: string;
  /** The branch whose pushes run the workflow. */
  branch?: string;
  json?: boolean;
  /** An independent rebuilder's workflow instead of the build workflow. */
  rebuilder?: boolean;
  releaseUrl?: string;
  builderId?: string;
  schedule?: string;
}

/** Regenerating an unchanged file is not an overwrite: nothing would be lost. */
async function sameText(path: string, text: string): Promise<boolean> {
  try {
    return (await readFile(path, 'utf8')) === text;
  } catch {
    return false;
  }
}
