/**
 * What a workspace's boards need from each other, read from the workspace alone: the
 * producers the generated workflows build once into the store, and the local source
 * folders the store cache key hashes.
 */
import type { Workspace } from '../workspace/load.js';

/** The boards of `built` that feed another board of it, sorted: what the producers job builds. */
export function producerBoards(ws: Workspace, built: readonly string[]): string[] {
  const names = new Set(built);
  return [
    ...new Set(
      built.flatMap((b) =>
        (ws.boards.get(b)?.value.inputs ?? []).flatMap((i) =>
          i.type === 'board' && names.has(i.board) ? [i.board] : [],
        ),
      ),
    ),
  ].sort();
}

/** The local source folders of `built` (workspace-relative, `.` for the workspace itself), sorted. */
export function localSourceDirs(ws: Workspace, built: readonly string[]): string[] {
  const dirs = built.flatMap((b) => {
    const source = ws.boards.get(b)?.value.source;
    return source?.type === 'local' ? [source.path.replace(/^\.\/+/, '').replace(/\/+$/, '') || '.'] : [];
  });
  return [...new Set(dirs)].sort();
}
