/**
 * `reprorom init`: a first workspace in an existing firmware repository (pins/offline,
 * images/firmware.yaml, one local-source board), never overwriting a file; it ends with the
 * next command to run. The build command and artifacts come from flags, or are asked for on
 * a terminal.
 */
import { basename, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { InitJson } from '../../contracts/json.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import { scaffoldFiles, writeScaffold } from '../../workspace/scaffold.js';
import { printLine, printOutput } from '../output.js';

export interface InitCliOptions {
  workspace: string;
  board?: string;
  command?: string[];
  artifact?: string[];
  json?: boolean;
}

/** The folder's name as a board name, when it is one (`My_Firmware` → `my_firmware`). */
function defaultBoard(root: string): string {
  const name = basename(root)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64);
  return name || 'firmware';
}

/** A path as a shell word: as it is when plain, else single-quoted. */
const shellWord = (s: string) => (/^[A-Za-z0-9_./+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Asks on the terminal; refuses (exit 2) when there is none to ask on. */
async function ask(question: string, flag: string, json: boolean): Promise<string[]> {
  if (!process.stdin.isTTY || json)
    throw new UsageError(
      `init needs ${flag} (there is no terminal to ask on)`,
      'for example: reprorom init --command "make BOARD=x230" --artifact build/x230/coreboot.rom',
    );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(question)).trim();
    return answer === '' ? [] : [answer];
  } finally {
    rl.close();
  }
}

export async function runInit(opts: InitCliOptions): Promise<number> {
  const root = resolve(opts.workspace);
  const board = opts.board ?? defaultBoard(root);
  const json = Boolean(opts.json);
  const commands = opts.command?.length
    ? opts.command
    : await ask(
        'Build command, as you run it in this repository (e.g. make BOARD=x230): ',
        '--command',
        json,
      );
  const artifacts = opts.artifact?.length
    ? opts.artifact
    : await ask(
        'ROM it makes, relative to the repository (e.g. build/x230/coreboot.rom): ',
        '--artifact',
        json,
      );
  const files = await scaffoldFiles({ board, commands, artifacts });
  const result = await writeScaffold(root, files);
  // What was written must be a valid workspace: `check` would say the same.
  await loadValidWorkspace(root);
  const at = relative(process.cwd(), root) === '' ? '' : ` -w ${shellWord(root)}`;
  const next = `reprorom check${at} && reprorom build ${board}${at} --runs 2`;
  const out: InitJson = {
    schema: 'reprorom.init/v1',
    ok: true,
    workspace: root,
    board,
    written: result.written,
    kept: result.kept,
    next,
  };
  if (json) {
    printOutput('init', out);
    return ExitCode.ok;
  }
  for (const f of result.written) printLine(`wrote ${f}`);
  for (const f of result.kept) printLine(`kept ${f} (already there, the same)`);
  printLine();
  printLine(
    'The toolchain is the offline Debian set: a machine that has not built it yet runs `reprorom pin fetch offline` first.',
  );
  printLine('Run artifacts go to .reprorom/: add it to your .gitignore.');
  printLine(`next: ${next}`);
  return ExitCode.ok;
}
