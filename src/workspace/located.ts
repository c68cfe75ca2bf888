/**
 * Positions inside a parsed workspace file without the parsed document: a small tree
 * of line/column pairs that can be stored with a cached validation (cache.ts) and
 * answers `at` / `keyAt` exactly as the document does (yamlFile.ts builds both).
 * No YAML library here, so a cache hit never loads one.
 */

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

/** Scalar key value, its line and column, and the value's tree (null: no value node). */
export type MapEntry = [
  key: string | number | boolean,
  line: number,
  col: number,
  value: PositionTree | null,
];

/** One node: its position, and its entries if it is a mapping (`m`) or a sequence (`s`). */
export interface PositionTree {
  p: [line: number, col: number];
  m?: MapEntry[];
  s?: Array<PositionTree | null>;
}

/** yaml's `YAMLSeq.get`: an index may be given as a number or as a string of digits. */
function itemIndex(key: PathKey): number | undefined {
  const idx = typeof key === 'string' && key !== '' ? Number(key) : key;
  return typeof idx === 'number' && Number.isInteger(idx) && idx >= 0 ? idx : undefined;
}

/** yaml's `getIn(path, true)`: map keys match by strict equality, sequence items by index. */
function nodeAt(root: PositionTree, path: readonly PathKey[]): PositionTree | undefined {
  let node: PositionTree | null | undefined = root;
  for (const key of path) {
    if (!node) return undefined;
    if (node.m) node = node.m.find((e) => e[0] === key)?.[3];
    else if (node.s) {
      const idx = itemIndex(key);
      node = idx === undefined ? undefined : node.s[idx];
    } else return undefined;
  }
  return node ?? undefined;
}

function position(node: PositionTree): Position {
  return { line: node.p[0], col: node.p[1] };
}

export function locatedFromTree(file: string, root: PositionTree): Located {
  const at = (path: readonly PathKey[]): Position => {
    for (let n = path.length; n >= 0; n--) {
      const node = nodeAt(root, path.slice(0, n));
      if (node) return position(node);
    }
    return position(root);
  };
  const keyAt = (path: readonly PathKey[], key: string): Position => {
    const entry = nodeAt(root, path)?.m?.find((e) => String(e[0]) === key);
    return entry ? { line: entry[1], col: entry[2] } : at(path);
  };
  return { file, at, keyAt };
}
