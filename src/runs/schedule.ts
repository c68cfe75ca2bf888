/**
 * The order a build's runs start in (issue 18: "--jobs N runs independent boards at once,
 * longest path first"). Run i of a consumer starts after run i of each of its producers;
 * among the runs that may start, a free slot takes the one with the longest chain of
 * consumers still to come behind it, so the chain that bounds the build's wall time starts
 * first and a slot never sits waiting for a producer while another board could run.
 */
import type { Board } from '../workspace/schema.js';
import type { GraphTask } from './pool.js';

export interface RunTask {
  board: string;
  index: number;
  /** Boards this board takes artifacts from (producers outside the build are ignored). */
  producers: readonly string[];
  run: () => Promise<void>;
}

/** The boards a board takes inputs from, each once. */
export function boardProducers(board: Pick<Board, 'inputs'>): string[] {
  return [...new Set(board.inputs.flatMap((i) => (i.type === 'board' ? [i.board] : [])))];
}

/**
 * Per board, how many boards of the build are on its longest chain of consumers (0: no board
 * of the build takes its artifacts). Assumes no cycle (the workspace check refuses one).
 */
export function chainHeights(
  tasks: ReadonlyArray<Pick<RunTask, 'board' | 'producers'>>,
): Map<string, number> {
  const consumers = new Map<string, Set<string>>();
  for (const t of tasks) {
    if (!consumers.has(t.board)) consumers.set(t.board, new Set());
    for (const p of t.producers) {
      if (!consumers.has(p)) consumers.set(p, new Set());
      consumers.get(p)?.add(t.board);
    }
  }
  const heights = new Map<string, number>();
  const height = (board: string, path: Set<string>): number => {
    const known = heights.get(board);
    if (known !== undefined) return known;
    if (path.has(board)) return 0;
    path.add(board);
    let h = 0;
    for (const c of consumers.get(board) ?? []) h = Math.max(h, 1 + height(c, path));
    path.delete(board);
    heights.set(board, h);
    return h;
  };
  for (const board of consumers.keys()) height(board, new Set());
  return heights;
}

/**
 * The tasks for runGraph: longest chain first, otherwise in the given (plan) order, each
 * after its producers' run of the same index when the build has one.
 */
export function startOrder(
  tasks: readonly RunTask[],
): Array<GraphTask<void> & RunTask & { after: number[] }> {
  const heights = chainHeights(tasks);
  const ordered = tasks
    .map((t, i) => ({ t, i, h: heights.get(t.board) ?? 0 }))
    .sort((a, b) => b.h - a.h || a.i - b.i)
    .map(({ t }) => t);
  const at = new Map(ordered.map((t, i) => [`${t.board}#${t.index}`, i]));
  return ordered.map((t) => ({
    ...t,
    after: t.producers.flatMap((p) => {
      const i = at.get(`${p}#${t.index}`);
      return i === undefined ? [] : [i];
    }),
  }));
}
