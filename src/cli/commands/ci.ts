import { circleciConfig, githubWorkflow, type WorkflowPlan } from '../../ci/workflows.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import { printLine } from '../output.js';

export async function runCiGenerate(
  system: 'github' | 'circleci',
  opts: { workspace: string; shards: string; out?: string; stdout?: boolean },
): Promise<number> {
  const shards = Number(opts.shards);
  if (!Number.isInteger(shards) || shards < 1 || shards > 64)
    throw new UsageError(`--shards ${opts.shards} is not a whole number from 1 to 64`);
  const ws = await loadValidWorkspace(opts.workspace);
  const images = [...new Set([...ws.boards.values()].map((b) => b.value.image))].sort();
  const pins = new Set(
    images.flatMap((i) => [
      ws.images.get(i)!.value.pin,
      ...ws.images.get(i)!.value.extraPins.map((e) => e.pin),
    ]),
  );
  // A local pin with a Debian lock is an offline package set: its .deb files are fetched first.
  const offlinePins = [...pins]
    .filter(
      (p) =>
        ws.pins.get(p)?.value.packageSet === 'packages' && ws.pins.get(p)?.value.flake.startsWith('path:'),
    )
    .sort();
  const plan: WorkflowPlan = { shards, images, offlinePins, runs: 2 };
  const text = system === 'github' ? githubWorkflow(plan) : circleciConfig(plan);
  if (opts.stdout) {
    process.stdout.write(text);
    return ExitCode.ok;
  }
  const out = opts.out ?? (system === 'github' ? '.github/workflows/reprorom.yml' : '.circleci/config.yml');
  await writeFileAtomic(out, text);
  printLine(out);
  return ExitCode.ok;
}
