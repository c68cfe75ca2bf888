/** `reprorom pin fetch NAME`: a thin wrapper; the work is in src/offline/fetch.ts. */
import { fetchOffline } from '../../offline/fetch.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { withInterrupts } from '../../util/interrupt.js';
import { printLine, printOutput, writeErr } from '../output.js';

/** Pins whose content must be fetched into the nix store before an offline build. */
const FETCHERS: Record<string, typeof fetchOffline> = { offline: fetchOffline };

export async function runPinFetch(
  name: string,
  opts: { workspace: string; json?: boolean },
): Promise<number> {
  const fetcher = FETCHERS[name];
  if (!fetcher) {
    throw new UsageError(
      `pin "${name}" has nothing to fetch`,
      `only ${Object.keys(FETCHERS).join(', ')} is fetched ahead of time; other pins are fetched by nix itself`,
    );
  }
  const result = await withInterrupts((signal) =>
    fetcher(opts.workspace, { log: (line) => writeErr(`${line}\n`), signal }),
  );
  if (opts.json) printOutput('pin-fetch', { schema: 'reprorom.pin-fetch/v1', ok: true, ...result });
  else {
    printLine(
      `fetched ${name}: ${result.debs} debs (${result.downloaded.length} downloaded, ${result.healed.length} re-fetched after a bad hash), ` +
        `${result.seeded} added to the nix store, in ${result.seconds}s`,
    );
    printLine(`cache ${result.cache}; bootstrap ${result.busybox}`);
  }
  return ExitCode.ok;
}
