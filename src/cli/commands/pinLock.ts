import { lockPin } from '../../pins/narHash.js';
import { hashPin, refOf } from '../../pins/resolve.js';
import {
  ConfigError,
  EnvironmentError,
  ExitCode,
  type Problem,
  type ReproromError,
} from '../../util/errors.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import { errorJson, printLine, printOutput } from '../output.js';

export async function runPinLock(
  name: string,
  opts: { workspace: string; ref?: string; json?: boolean },
): Promise<number> {
  const result = await lockPin(opts.workspace, name, opts.ref);
  if (opts.json) printOutput('pin-lock', { schema: 'reprorom.pin-lock/v1', ok: true, ...result });
  else
    printLine(`${result.changed ? 'locked' : 'unchanged'} ${result.name}: ${result.flake} ${result.narHash}`);
  return ExitCode.ok;
}

interface VerifyRow {
  pin: string;
  expected: string;
  actual?: string;
  ok: boolean;
  error?: string;
}

/** Re-hash pins and refuse any whose content no longer matches, naming both hashes. */
export async function runPinVerify(
  name: string | undefined,
  opts: { workspace: string; json?: boolean },
): Promise<number> {
  const ws = await loadValidWorkspace(opts.workspace);
  const names = name ? [name] : [...ws.pins.keys()];
  const rows: VerifyRow[] = [];
  const problems: Problem[] = [];
  let unreachable = false;
  for (const n of names) {
    const entry = ws.pins.get(n);
    if (!entry)
      throw new ConfigError([
        {
          file: 'pins/',
          line: 1,
          col: 1,
          message: `pin "${n}" does not exist, expected one of: ${[...ws.pins.keys()].join(', ')}`,
        },
      ]);
    refOf(entry);
    try {
      const { narHash } = await hashPin(ws.root, entry);
      const ok = narHash === entry.value.narHash;
      rows.push({ pin: n, expected: entry.value.narHash, actual: narHash, ok });
      if (!ok) {
        const { line, col } = entry.parsed.at(['narHash']);
        problems.push({
          file: entry.file,
          line,
          col,
          message: `pin "${n}" content has narHash ${narHash}, but the pin says ${entry.value.narHash}; expected them to match`,
        });
      }
    } catch (err) {
      if (!(err instanceof EnvironmentError)) throw err;
      unreachable = true;
      rows.push({ pin: n, expected: entry.value.narHash, ok: false, error: err.message });
    }
  }
  const failure: ReproromError | undefined =
    problems.length > 0
      ? new ConfigError(
          problems,
          'restore the pinned content, or run `reprorom pin lock NAME` if the change is intended',
        )
      : unreachable
        ? new EnvironmentError(
            'some pins could not be fetched to verify them',
            'verify them on a machine with network access',
          )
        : undefined;
  if (opts.json)
    printOutput('pin-verify', {
      schema: 'reprorom.pin-verify/v1',
      ok: failure === undefined,
      ...(failure ? { error: errorJson(failure) } : {}),
      pins: rows,
    });
  else
    for (const r of rows)
      printLine(
        `${r.ok ? 'ok' : 'FAILED'} ${r.pin}: ${r.actual ?? r.error ?? ''}${r.ok ? '' : ` (pinned ${r.expected})`}`,
      );
  // The message (stderr) and the exit code come from the one top-level handler.
  if (failure) throw failure;
  return ExitCode.ok;
}
