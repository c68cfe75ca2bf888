/**
 * Progress for a person (an ora spinner on a TTY) or for a log (plain prefixed
 * lines in CI and pipes). Always on stderr: stdout carries results.
 */
import { colourAllowed, terminalText, writeErr } from './output.js';

export interface Progress {
  update(text: string): void;
  done(text: string): void;
  fail(text: string): void;
}

export async function progress(prefix: string): Promise<Progress> {
  // A terminal of 0 columns (a pty nobody sized) would spin ora forever: plain lines then.
  if (colourAllowed(process.stderr) && (process.stderr.columns ?? 0) > 0) {
    // Loaded only for a terminal: a CI log never pays for the spinner's modules.
    const { default: ora } = await import('ora');
    const spinner = ora({ text: prefix, stream: process.stderr }).start();
    return {
      update: (t) => {
        spinner.text = terminalText(`${prefix}: ${t}`, process.stderr);
      },
      done: (t) => spinner.succeed(terminalText(t, process.stderr)),
      fail: (t) => spinner.fail(terminalText(t, process.stderr)),
    };
  }
  const line = (t: string) => writeErr(`[${prefix}] ${t}\n`);
  return { update: line, done: line, fail: line };
}
