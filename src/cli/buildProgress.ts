/**
 * Signs of life during `build`, on stderr (stdout carries results):
 * - on a terminal, an ora spinner whose text is one live line per running board (stage, run
 *   i/N, elapsed) under an overall counter; event lines scroll above it;
 * - off a terminal (CI, pipes, REPROROM_QUIET), plain `[board] …` lines, and a heartbeat line
 *   per running build at least every REPROROM_HEARTBEAT seconds (default 60), so a CI system
 *   that kills silent jobs (CircleCI: 10 minutes) never sees a long build as hung.
 * The build's own output is streamed only with --verbose; it is always in the run's log.
 */
import { type ProgressEvent, progressText, type RunState } from '../runs/progress.js';
import { printable } from '../util/printable.js';
import { colourAllowed, terminalText } from './output.js';

export interface BuildProgressOptions {
  /** Runs the plan will make (the counter's total; culprit runs add to it). */
  plannedRuns: number;
  /** Stream every build output line to stderr. */
  verbose: boolean;
  stream?: NodeJS.WriteStream;
}

interface Running {
  board: string;
  index: number;
  total: number;
  stage: string;
  started: number;
  lastLine: string;
  lastLineAt: number;
  /** When a line about it was last printed. */
  saidAt: number;
}

const DEFAULT_HEARTBEAT_S = 60;
/** The one entry for what happens before the runs (an image, a source). */
const PREP = 'prep';

/** The shortest interval: REPROROM_HEARTBEAT=0.001 must not print thousands of lines a second. */
const MIN_HEARTBEAT_S = 1;

/**
 * Seconds between heartbeat lines: REPROROM_HEARTBEAT (a positive number, between 1 and 60),
 * else 60.
 */
export function heartbeatSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['REPROROM_HEARTBEAT'];
  const n = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  return Number.isFinite(n) && n > 0
    ? Math.min(Math.max(n, MIN_HEARTBEAT_S), DEFAULT_HEARTBEAT_S)
    : DEFAULT_HEARTBEAT_S;
}

export function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export class BuildProgress {
  private readonly stream: NodeJS.WriteStream;
  private readonly live: boolean;
  private readonly running = new Map<string, Running>();
  private readonly began = Date.now();
  private spinner: { text: string; stop(): unknown } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private total: number;
  private startedRuns = 0;
  private finished = 0;
  private failed = 0;

  private constructor(private readonly opts: BuildProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    // A terminal of 0 columns (a pty nobody sized, e.g. under `script`) would spin ora forever: plain lines then.
    this.live =
      colourAllowed(this.stream) &&
      (this.stream.columns ?? 0) > 0 &&
      process.env['REPROROM_QUIET'] === undefined;
    this.total = opts.plannedRuns;
  }

  static async start(opts: BuildProgressOptions): Promise<BuildProgress> {
    const p = new BuildProgress(opts);
    if (p.live) {
      // Loaded only for a terminal: a CI log never pays for the spinner's modules.
      const { default: ora } = await import('ora');
      // discardStdin off: Ctrl-C must reach reprorom's own interrupt handling.
      p.spinner = ora({ text: p.statusText(), stream: p.stream, discardStdin: false }).start();
      p.timer = setInterval(() => p.refresh(), 1000);
    } else {
      // Ticks at half the interval, and speaks for a build silent for half of it: never a gap longer than the interval.
      const half = (heartbeatSeconds() * 1000) / 2;
      p.timer = setInterval(() => p.heartbeat(half), half);
    }
    p.timer.unref();
    return p;
  }

  /** Every line goes through the terminal sanitiser: events and heartbeats quote board text. */
  private write(text: string): void {
    this.stream.write(terminalText(text, this.stream));
  }

  /** Renders one of the pipeline's events: a line, the live display, or both. */
  readonly onProgress = (e: ProgressEvent): void => {
    if (e.type === 'output') {
      this.line(e.board, e.index, e.line);
      return;
    }
    const said = progressText(e);
    if (said) this.write(`[${said.board}] ${said.text}\n`);
    if (e.type === 'prep' && e.what !== 'inputs') this.setStage(e.board, e.what);
    if (e.type === 'run') this.runState(e.board, e.index, e.total, e.state);
  };

  /** A line of ours that is no event of the pipeline (`[build] …`). */
  readonly event = (board: string, text: string): void => {
    this.write(`[${board}] ${text}\n`);
  };

  readonly line = (board: string, index: number, line: string): void => {
    const r = this.running.get(`${board}#${index}`);
    if (r) {
      r.lastLine = line;
      r.lastLineAt = Date.now();
    }
    if (this.opts.verbose) this.write(`  ${board}#${index} | ${printable(line)}\n`);
  };

  readonly runState = (board: string, index: number, total: number, state: RunState): void => {
    const key = `${board}#${index}`;
    if (state === 'started') {
      this.startedRuns++;
      this.total = Math.max(this.total, this.startedRuns);
      const now = Date.now();
      // Images and sources are prepared one at a time, before any run: that stage is over.
      this.running.delete(PREP);
      this.running.set(key, {
        board,
        index,
        total,
        stage: 'build',
        started: now,
        lastLine: '',
        lastLineAt: now,
        saidAt: now,
      });
    } else if (state === 'booting') {
      const r = this.running.get(key);
      if (r) r.stage = 'boot';
    } else {
      this.running.delete(key);
      this.finished++;
      if (state === 'failed') this.failed++;
    }
    this.refresh();
  };

  /** Stops the spinner and timers (before results are printed). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.spinner?.stop();
    this.spinner = undefined;
  }

  /** The closing line, with the total time: `[build] build finished in 1m 05s: 6 runs, 0 failed; …`. */
  summary(what: string, verdict?: string): void {
    this.write(
      `[build] ${what} in ${elapsed(Date.now() - this.began)}: ${this.finished} run${this.finished === 1 ? '' : 's'}, ${this.failed} failed${verdict ? `; ${verdict}` : ''}\n`,
    );
  }

  private setStage(board: string, stage: string): void {
    const now = Date.now();
    this.running.set(PREP, {
      board,
      index: 0,
      total: 0,
      stage,
      started: now,
      lastLine: '',
      lastLineAt: now,
      saidAt: now,
    });
    this.refresh();
  }

  private refresh(): void {
    if (this.spinner) this.spinner.text = terminalText(this.statusText(), this.stream);
  }

  private statusText(): string {
    const columns = this.stream.columns ?? 80;
    const now = Date.now();
    const head = `${this.finished}/${this.total} runs done${this.failed ? `, ${this.failed} failed` : ''}, ${elapsed(now - this.began)}`;
    const lines = [...this.running.values()].map((r) =>
      clip(
        `  ${r.board}  ${r.index ? `run ${r.index}/${r.total}  ` : ''}${r.stage}  ${elapsed(now - r.started)}`,
        columns - 4,
      ),
    );
    return [head, ...lines].join('\n');
  }

  private heartbeat(silentMs: number): void {
    const now = Date.now();
    for (const r of this.running.values()) {
      if (now - r.saidAt < silentMs) continue;
      r.saidAt = now;
      if (r.index === 0) {
        this.write(`[${r.board}] still working: ${r.stage}, ${elapsed(now - r.started)}\n`);
        continue;
      }
      const last = r.lastLine
        ? `; last output ${elapsed(now - r.lastLineAt)} ago: ${clip(printable(r.lastLine.trim()), 80)}`
        : '; no output yet';
      this.write(
        `[${r.board}] run ${r.index}/${r.total} still running (${r.stage}, ${elapsed(now - r.started)}${last}) — ${this.finished}/${this.total} runs done\n`,
      );
    }
  }
}
