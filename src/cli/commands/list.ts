/**
 * `reprorom list`: the boards of the workspace, one line each (image, source, inputs and the
 * flags that change what `build --all` and a comparison do), so a user learns the names
 * `build` takes. `--json` gives the same as `reprorom.list/v1`.
 */
import type { ListedBoardJson, ListedInputJson, ListedSourceJson, ListJson } from '../../contracts/json.js';
import { ExitCode } from '../../util/errors.js';
import { printable } from '../../util/printable.js';
import { loadValidWorkspace } from '../../workspace/load.js';
import type { Board, BoardInput, Source } from '../../workspace/schema.js';
import type { Workspace } from '../../workspace/types.js';
import { colourAllowed, paint, printLine, printOutput } from '../output.js';

function sourceSummary(s: Source): ListedSourceJson {
  switch (s.type) {
    case 'local':
      return { type: s.type, summary: `local ${s.path}` };
    case 'git':
      return { type: s.type, summary: `git ${s.url}@${s.rev.slice(0, 12)}` };
    case 'tarball':
      return { type: s.type, summary: `tarball ${s.url}` };
    case 'debian-source':
      return { type: s.type, summary: `debian-source ${s.package} ${s.version} (patches: ${s.patches})` };
  }
}

function inputSummary(i: BoardInput): ListedInputJson {
  switch (i.type) {
    case 'board':
      return { type: i.type, path: i.path, summary: `board ${i.board}:${i.artifact}` };
    case 'url':
      return { type: i.type, path: i.path, summary: `url ${i.url}` };
    case 'debian':
      return { type: i.type, path: i.path, summary: `debian ${i.package} ${i.version} ${i.arch}` };
  }
}

function listed(name: string, file: string, b: Board): ListedBoardJson {
  return {
    name,
    file,
    description: b.description ?? null,
    image: b.image,
    source: sourceSummary(b.source),
    inputs: b.inputs.map(inputSummary),
    artifacts: [...b.artifacts],
    all: b.all,
    expectMismatch: b.expectMismatch ?? null,
    boot: b.boot !== undefined,
  };
}

export function listJson(ws: Workspace): ListJson {
  const boards = [...ws.boards.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => listed(e.name, e.file, e.value));
  return { schema: 'reprorom.list/v1', ok: true, workspace: ws.root, boards };
}

/** The flags a board sets that change what `build --all` or a comparison does. */
function flags(b: ListedBoardJson): string {
  return [
    b.all ? '' : 'all: false (built by name only)',
    b.expectMismatch === null ? '' : `expectMismatch: ${b.expectMismatch}`,
  ]
    .filter(Boolean)
    .join('; ');
}

/** Aligned columns: the last one (flags, free text) is not padded. */
export function renderList(list: ListJson, dim: (t: string) => string = (t) => t): string[] {
  const head = ['BOARD', 'IMAGE', 'SOURCE', 'INPUTS', 'FLAGS'];
  const rows = list.boards.map((b) =>
    [
      b.name,
      b.image,
      b.source.summary,
      b.inputs.length === 0 ? '-' : b.inputs.map((i) => `${i.summary} → ${i.path}`).join(', '),
      flags(b),
    ].map(printable),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [dim(line(head)), ...rows.map(line)];
}

export async function runList(opts: { workspace: string; json?: boolean }): Promise<number> {
  const list = listJson(await loadValidWorkspace(opts.workspace));
  if (opts.json) {
    printOutput('list', list);
    return ExitCode.ok;
  }
  if (list.boards.length === 0) {
    printLine(`no boards in ${list.workspace}/boards/ (add boards/NAME.yaml, or run reprorom init)`);
    return ExitCode.ok;
  }
  const colour = colourAllowed(process.stdout);
  for (const l of renderList(list, (t) => (colour ? paint('dim', t) : t))) printLine(l);
  printLine();
  printLine(
    `${list.boards.length} board${list.boards.length === 1 ? '' : 's'}; build one with: reprorom build BOARD --runs 2`,
  );
  return ExitCode.ok;
}
