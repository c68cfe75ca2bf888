/**
 * Board inputs across files: a board input names a board that exists and one of its declared
 * artifacts, no two inputs of a board land on the same path, and the boards that feed boards
 * form no cycle. Pure over a loaded workspace; every problem carries its position.
 */
import type { Problem } from '../util/errors.js';
import { located } from './references.js';
import type { Board, BoardInput } from './schema.js';
import { closestKey } from './schemaKeys.js';
import type { Entry, Workspace } from './types.js';

/** Whether a producer's declared artifact (a path or a shell glob) covers `path`. */
export function artifactCovers(declared: string, path: string): boolean {
  if (declared === path) return true;
  if (!/[*?[{]/.test(declared)) return false;
  // Brackets and braces are rare: accept rather than guess how the shell would read them.
  if (/[[{]/.test(declared)) return true;
  const re = declared
    .replace(/[.+^$()|\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`).test(path);
}

export type BoardInputOf = Extract<BoardInput, { type: 'board' }>;

/** The board inputs of a board, with their index in `inputs`. */
export function boardInputs(board: Board): Array<{ input: BoardInputOf; index: number }> {
  return board.inputs.flatMap((input, index) => (input.type === 'board' ? [{ input, index }] : []));
}

/** `invalidBoards`: board files that exist but are invalid (not reported again as unknown). */
export function inputProblems(ws: Workspace, invalidBoards: ReadonlySet<string> = new Set()): Problem[] {
  const problems: Problem[] = [];
  for (const entry of ws.boards.values()) problems.push(...oneBoard(ws, entry, invalidBoards));
  problems.push(...cycleProblems(ws));
  return problems;
}

function oneBoard(ws: Workspace, entry: Entry<Board>, invalidBoards: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = [];
  const at = (index: number, key: string, message: string) =>
    problems.push(located(entry.parsed, ['inputs', index, key], message));
  // Paths are normalised by the schema: two spellings of one place are one path here.
  const paths = new Map<string, number>();
  entry.value.inputs.forEach((input, index) => {
    const first = paths.get(input.path);
    if (first !== undefined)
      at(
        index,
        'path',
        `input path "${input.path}" is also used by inputs[${first}], expected one file per path`,
      );
    else paths.set(input.path, index);
  });
  // A file input cannot also be a folder holding another input (`x` and `x/y`).
  entry.value.inputs.forEach((input, index) => {
    for (const [other, otherIndex] of paths) {
      if (input.path.startsWith(`${other}/`))
        at(
          index,
          'path',
          `input path "${input.path}" lies inside "${other}", which inputs[${otherIndex}] places as a file, expected paths that do not contain each other`,
        );
    }
  });
  for (const { input, index } of boardInputs(entry.value)) {
    if (input.board === entry.name) {
      at(index, 'board', `board "${entry.name}" takes an input from itself, expected another board`);
      continue;
    }
    const producer = ws.boards.get(input.board);
    if (!producer) {
      if (invalidBoards.has(input.board)) continue;
      const known = [...ws.boards.keys()].sort();
      const near = closestKey(input.board, known);
      at(
        index,
        'board',
        `board "${input.board}" does not exist${near ? ` (did you mean "${near}"?)` : ''}, expected one of: ${known.join(', ') || '(none in boards/)'}`,
      );
      continue;
    }
    const declared = producer.value.artifacts;
    if (!declared.some((d) => artifactCovers(d, input.artifact)))
      at(
        index,
        'artifact',
        `board "${input.board}" declares no artifact "${input.artifact}", expected one of: ${declared.join(', ')}`,
      );
  }
  return problems;
}

/** Each cycle once, reported at the input (in the first board of the cycle, by name) that closes it. */
function cycleProblems(ws: Workspace): Problem[] {
  const problems: Problem[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string) => {
    state.set(name, 'open');
    stack.push(name);
    const entry = ws.boards.get(name);
    for (const { input, index } of entry ? boardInputs(entry.value) : []) {
      if (input.board === name || !ws.boards.has(input.board)) continue;
      const s = state.get(input.board);
      if (s === 'open') {
        const cycle = [...stack.slice(stack.indexOf(input.board)), input.board];
        problems.push(
          located(
            (entry as Entry<Board>).parsed,
            ['inputs', index, 'board'],
            `boards feed each other in a cycle (${cycle.join(' → ')}), expected producers that do not depend on their consumers`,
          ),
        );
      } else if (s === undefined) visit(input.board);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of [...ws.boards.keys()].sort()) if (!state.has(name)) visit(name);
  return problems;
}

/**
 * `names` and every board they take inputs from, producers before consumers; otherwise in
 * the order given (producers pulled in just before their first consumer). Assumes no cycle
 * (the workspace check refuses one).
 */
export function withProducers(ws: Workspace, names: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (name: string, path: readonly string[]) => {
    if (seen.has(name) || path.includes(name)) return;
    const entry = ws.boards.get(name);
    for (const { input } of entry ? boardInputs(entry.value) : []) add(input.board, [...path, name]);
    seen.add(name);
    out.push(name);
  };
  for (const n of names) add(n, []);
  return out;
}
