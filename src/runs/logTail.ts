/**
 * The last lines a run printed, kept as it runs, so a failure can show its cause (the
 * compiler's error) where the user looks: under the failure, in JSON, JUnit and GitHub.
 */
import { BuildFailedError } from '../util/errors.js';

/** How many lines a failure shows by default. */
export const DEFAULT_LOG_TAIL = 40;

export class LogTail {
  private readonly lines: string[] = [];
  constructor(private readonly max: number) {}

  push(line: string): void {
    if (this.max <= 0) return;
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }

  get(): string[] {
    return [...this.lines];
  }
}

/** A failed run, with the last lines of its own output. */
export class BoardRunError extends BuildFailedError {
  readonly logTail: string[];
  constructor(failure: BuildFailedError, logTail: string[]) {
    super(failure.message, failure.hint, { cause: failure });
    this.logTail = logTail;
  }
}
