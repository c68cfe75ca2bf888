/**
 * Board-controlled strings (an `off` reason, a URL, the build's own log lines) carrying
 * escape sequences, bells, C1 codes and bidirectional overrides, sent through every command
 * and channel that shows them: text on stdout and stderr, --json, GitHub annotations and
 * the step summary, JUnit. Each channel must carry the string (so the test can fail) and
 * none may carry it raw.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { inCi, probeEngine, probeNix, requireReal, skipUnlessReal } from '../helpers/real.js';
import { copyWorkspace } from '../helpers/workspace.js';
import { board, expectNoStack, tag } from './support.js';

const engine = await probeEngine();
const nix = await probeNix();

/** OSC "set window title" ended by BEL, a right-to-left override, a C1 CSI. */
const HOSTILE = '\u001b]0;pwn\u0007\u202e\u009b31m';
/** The same in a YAML double-quoted scalar. */
const HOSTILE_YAML = '\\e]0;pwn\\a\\u202E\\x9B31m';
const RAW =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** The channel carried the hostile string (its visible escape), and nothing raw. */
function expectCarriedSafely(channel: string, text: string): void {
  expect(text, `${channel} must not carry raw control or bidi characters`).not.toMatch(RAW);
  expect(text, `${channel} should show the hostile string, escaped`).toMatch(/\\u001b\]0;pwn\\u0007\\u202e/);
}

const NO_GITHUB = { GITHUB_ACTIONS: '', CI: '' };

describe.skipIf(skipUnlessReal(engine) || skipUnlessReal(nix))(
  'robustness: hostile strings at every output boundary',
  () => {
    let ws = '';
    const ok = `${tag}-hostok`;
    const failing = `${tag}-hostfail`;
    const url = `${tag}-hosturl`;
    beforeAll(async () => {
      if (inCi) {
        requireReal(engine);
        requireReal(nix);
      }
      ws = await copyWorkspace('rr-hostile-out-');
      await board(
        ws,
        ok,
        `vary:\n  time:\n    off: "${HOSTILE_YAML}"\ncommands: ['echo same > out.bin']\nartifacts: [out.bin]\n`,
      );
      await board(
        ws,
        failing,
        `commands: ['printf "log ${HOSTILE_YAML.replace(/\\\\/g, '\\\\\\\\')}\\\\n" >&2; printf "\\\\033]0;pwn\\\\007\\\\342\\\\200\\\\256\\\\302\\\\23331m\\\\n" >&2; exit 3']\nartifacts: [out.bin]\n`,
      );
    });
    afterAll(async () => {
      await rm(ws, { recursive: true, force: true });
    });

    it('build, compare, release and verify print a hostile off reason escaped, in text and --json', async () => {
      const text = await runCli(['build', ok, '--runs', '2', '-w', ws], { env: NO_GITHUB });
      expect(text.exitCode, text.stderr).toBe(0);
      expectCarriedSafely('build text', text.stdout + text.stderr);
      expectNoStack(text.stderr);

      const json = await runCli(['build', ok, '--runs', '2', '--json', '-w', ws], { env: NO_GITHUB });
      expect(json.exitCode, json.stderr).toBe(0);
      expect(json.stdout).not.toMatch(RAW);
      // The value survives: only its written form is escaped.
      const report = JSON.parse(json.stdout);
      expect(report.boards[0].vary.off.time).toBe(`turned off by the board: ${HOSTILE}`);
      expect(json.stdout).toContain('\\u202e');
      const runDir = report.boards[0].runs[0].dir as string;

      const compare = await runCli(['compare', join(runDir, '..'), '--allow-expected'], { env: NO_GITHUB });
      expect(compare.stdout + compare.stderr).not.toMatch(RAW);
      expectNoStack(compare.stderr);

      const out = join(ws, 'release');
      const release = await runCli(['release', ok, '--out', out, '--allow-dirty', '-w', ws], {
        env: NO_GITHUB,
      });
      expect(release.exitCode, release.stderr).toBe(0);
      expectCarriedSafely('release text', release.stdout + release.stderr);

      const verify = await runCli(['verify', out, '--no-rebuild'], { env: NO_GITHUB });
      expect(verify.stdout + verify.stderr).not.toMatch(RAW);
      expectNoStack(verify.stderr);
    });

    it('a failing build whose log carries escapes: text, GitHub annotations, step summary and JUnit show it escaped', async () => {
      const summary = join(ws, 'summary.md');
      const junit = join(ws, 'junit.xml');
      const r = await runCli(['build', failing, '--runs', '2', '--junit', junit, '-w', ws], {
        env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary },
      });
      expect(r.exitCode, r.stderr).toBe(4);
      expectNoStack(r.stderr);
      expectCarriedSafely('build text + annotations', r.stdout + r.stderr);
      expect(r.stdout).toMatch(/^::error title=reprorom build failed: [^\n]*pwn/m);
      expectCarriedSafely('step summary', await readFile(summary, 'utf8'));
      expectCarriedSafely('JUnit', await readFile(junit, 'utf8'));
    });

    it('REPROROM_HEARTBEAT=0.001 has a floor of one second: a 4 s build prints a handful of heartbeat lines, not thousands', async () => {
      const name = `${tag}-slow`;
      await board(ws, name, "commands: ['sleep 4', 'echo x > out.bin']\nartifacts: [out.bin]\n");
      const r = await runCli(['build', name, '--runs', '1', '-w', ws], {
        env: { ...NO_GITHUB, REPROROM_HEARTBEAT: '0.001' },
      });
      expect(r.stderr).toMatch(/still running/);
      const beats = r.stderr.split('\n').filter((l) => /still (running|working)/.test(l));
      // One line per half second at most (never a gap longer than the interval): about 8 in 4 s.
      expect(beats.length).toBeLessThanOrEqual(14);
    });

    it('a URL with escapes in "cannot read …": one line, escaped', async () => {
      // A workspace of its own: `check` refuses this board, and with it every command in its workspace.
      const own = await copyWorkspace('rr-hostile-url-');
      await board(
        own,
        url,
        `inputs:\n  - { type: url, url: "file:///nonexistent/${HOSTILE_YAML}", sha256: "${'0'.repeat(64)}", path: in.bin }\ncommands: ['true']\nartifacts: [README]\n`,
      );
      const r = await runCli(['build', url, '-w', own], { env: NO_GITHUB });
      await rm(own, { recursive: true, force: true });
      expect(r.exitCode).not.toBe(0);
      expectNoStack(r.stderr);
      expect(r.stdout + r.stderr).not.toMatch(RAW);
      expect(r.stderr).toMatch(/^reprorom: .*nonexistent\/(\\u001b|%1B)\]0;pwn/m);
    });
  },
);
