import type { Board, ImageDef, Pin } from './schema.js';

/** A key in a path into a YAML value: a mapping key or a sequence index. */
export type PathKey = string | number;

export interface Position {
  line: number;
  col: number;
}

/** Where in a workspace file a value (or key) is, for FILE:LINE:COL messages. */
export interface Located {
  file: string;
  /** Position of the value at `path` (or of its closest existing parent). */
  at(path: readonly PathKey[]): Position;
  /** Position of the key `key` in the mapping at `path`. */
  keyAt(path: readonly PathKey[], key: string): Position;
}

export interface Entry<T> {
  name: string;
  /** Path relative to the workspace, as printed in messages. */
  file: string;
  value: T;
  /** Positions inside the file, for messages about this entry. */
  parsed: Located;
}

export interface Workspace {
  root: string;
  pins: Map<string, Entry<Pin>>;
  images: Map<string, Entry<ImageDef>>;
  boards: Map<string, Entry<Board>>;
}
