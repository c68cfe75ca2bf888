/**
 * A run's output as it streams: reprorom's own records (variations not applied, artifacts
 * refused) told apart from the board's lines, failures recognised by kind (fork, full disk),
 * the last lines kept for the failure message, everything written to the run's log.
 */
import { printable } from '../util/printable.js';
import type { RunLog } from './cappedLog.js';
import { DEFAULT_LOG_TAIL, LogTail } from './logTail.js';
import { ARTIFACT_MARK, VARIATION_END, VARIATION_MARK } from './script.js';

/** What the run's stderr told: reprorom's own records, the board's failures by kind, its last lines. */
export interface OutputWatch {
  lineTo: (line: string) => void;
  tail: LogTail;
  /** What the container says it applied, read only before the board's commands start. */
  notApplied: Record<string, string>;
  /** What the container refused among the declared artifacts (after the commands), `KIND: NAME`. */
  refused: string[];
  /** A process that cannot fork prints one of these: the pids limit, reported by name. */
  forkFailed: boolean;
  diskFull: boolean;
}

/** The run a watch reads the output of, and where its lines go. */
export interface WatchedRun {
  boardName: string;
  index: number;
  log: RunLog;
  logTailLines?: number;
  onLine?: (line: string) => void;
}

/** `notApplied`: the plan's own reasons, before the container adds its records. */
export function watchOutput(input: WatchedRun, notApplied: Record<string, string>): OutputWatch {
  const prefix = `[${input.boardName}#${input.index}]`;
  let marksOpen = true;
  const watch: OutputWatch = {
    tail: new LogTail(input.logTailLines ?? DEFAULT_LOG_TAIL),
    notApplied: { ...notApplied },
    refused: [],
    forkFailed: false,
    diskFull: false,
    lineTo: (line: string) => {
      if (!marksOpen && line.startsWith(ARTIFACT_MARK) && watch.refused.length < MAX_REFUSED_SHOWN)
        watch.refused.push(line.slice(ARTIFACT_MARK.length).trim());
      // reprorom's own records go to the log but are not the board's output: progress says
      // "no output yet" until the board's commands print something.
      const ownRecord = marksOpen && line.startsWith(VARIATION_MARK);
      if (ownRecord) {
        if (line === VARIATION_END) marksOpen = false;
        const m = /^reprorom-variation: ([a-z-]+) not applied: (.*)$/.exec(line);
        if (m?.[1] && m[2]) watch.notApplied[m[1]] = m[2];
      }
      watch.tail.push(line);
      if (/Resource temporarily unavailable|fork: retry|Cannot fork|can't fork/i.test(line))
        watch.forkFailed = true;
      if (/No space left on device/i.test(line)) watch.diskFull = true;
      input.log.write(`${prefix} ${line}\n`);
      if (!ownRecord) input.onLine?.(line);
    },
  };
  return watch;
}

/** Refused artifacts named in one failure message; the log has every one. */
export const MAX_REFUSED_SHOWN = 20;

/** `symbolic link: out/link.rom` (the container's record) → `out/link.rom is a symbolic link`. */
export function describeRefusal(record: string): string {
  const colon = record.indexOf(': ');
  const kind = colon < 0 ? '' : record.slice(0, colon);
  const name = printable(colon < 0 ? record : record.slice(colon + 2));
  switch (kind) {
    case 'missing':
      return /[*?[]/.test(name) ? `${name} matches nothing` : `${name} is missing`;
    case 'control character':
      return `${name} has a control character in its name (shown as ?)`;
    case 'FIFO':
      return `${name} is a FIFO`;
    case '':
      return name;
    default:
      return `${name} is a ${kind}`;
  }
}
