/**
 * Run a step of this repository's composite action (action.yml) the way GitHub
 * does: `bash --noprofile --norc -eo pipefail` on the step's script, inputs
 * (`with:` over the defaults) reaching it through the step's `env:`, outputs
 * written to the file named by GITHUB_OUTPUT.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { repoRoot } from './cli.js';

interface ActionStep {
  id?: string;
  name?: string;
  shell?: string;
  run?: string;
  env?: Record<string, string>;
}
interface ActionFile {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; steps: ActionStep[] };
}

export async function loadAction(): Promise<ActionFile> {
  return parse(await readFile(join(repoRoot, 'action.yml'), 'utf8')) as ActionFile;
}

export interface ActionStepResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
}

export async function runActionStep(
  stepId: string,
  opts: {
    with?: Record<string, string>;
    cwd: string;
    /** GITHUB_ACTION_PATH: where the action (reprorom) lives. */
    actionPath: string;
    env?: Record<string, string>;
  },
): Promise<ActionStepResult> {
  const action = await loadAction();
  const step = action.runs.steps.find((s) => s.id === stepId);
  if (!step?.run) throw new Error(`action.yml has no run step ${stepId}`);
  if (step.shell !== 'bash') throw new Error(`step ${stepId} is not a bash step`);
  const inputs = Object.fromEntries(
    Object.entries(action.inputs).map(([k, v]) => [k, opts.with?.[k] ?? v.default ?? '']),
  );
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(step.env ?? {}))
    env[k] = v.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_m, name: string) => {
      if (!(name in inputs)) throw new Error(`step ${stepId} reads an undeclared input ${name}`);
      return inputs[name] ?? '';
    });
  const tmp = await mkdtemp(join(tmpdir(), 'rr-action-'));
  try {
    const outputFile = join(tmp, 'output');
    await writeFile(outputFile, '');
    const script = join(tmp, 'step.sh');
    await writeFile(script, step.run);
    const r = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
      cwd: opts.cwd,
      env: { ...opts.env, ...env, GITHUB_ACTION_PATH: opts.actionPath, GITHUB_OUTPUT: outputFile },
      reject: false,
      stdin: 'ignore',
    });
    const outputs = Object.fromEntries(
      (await readFile(outputFile, 'utf8'))
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), outputs };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
