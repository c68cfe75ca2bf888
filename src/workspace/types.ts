import type { Located } from './located.js';
import type { Board, ImageDef, Pin } from './schema.js';

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
