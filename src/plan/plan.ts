/**
 * Plan, then execute: every lookup in the workspace happens here, once, and ends in one
 * value that says exactly what will be built. Pure: no files, no engine, no nix. Every
 * stage after this takes the plan's values, never the workspace and a name.
 */

import { ConfigError, UsageError } from '../util/errors.js';
import { toolVersion } from '../util/version.js';
import { withProducers } from '../workspace/inputs.js';
import { located } from '../workspace/references.js';
import type { Board, ImageDef, Pin } from '../workspace/schema.js';
import { closestKey } from '../workspace/schemaKeys.js';
import type { Entry, Workspace } from '../workspace/types.js';
import { imageCacheKey } from './imageCacheKey.js';
import {
  appliedVariations,
  chooseVariations,
  defaultChoice,
  type Variation,
  type VariationChoice,
  variationFor,
} from './variations.js';

/** A pin as recorded in a manifest: enough to fetch and verify it again. */
export interface LockedPinRef {
  name: string;
  flake: string;
  narHash: string;
}

export interface PlannedImage {
  name: string;
  file: string;
  definition: ImageDef;
  /** The workspace folder: local flakes in pins are relative to it. */
  root: string;
  /** The image's pins, its main pin first, with their positions for later messages. */
  pins: Array<Entry<Pin>>;
  /** The content key of the image cache: definition, pinned hashes and tool version. */
  cacheKey: string;
}

export interface PlannedRun {
  /** 1-based; run 1 is the reference environment. */
  index: number;
  variation: Variation;
  /** Names of what differs from the reference run. */
  varied: string[];
}

export interface PlannedBoard {
  name: string;
  file: string;
  entry: Entry<Board>;
  board: Board;
  image: PlannedImage;
  pin: LockedPinRef;
  extraPins: LockedPinRef[];
  /** Which variations its runs use, which are off and why, which cannot apply here. */
  vary: VariationChoice;
  runs: PlannedRun[];
}

export interface BuildPlan {
  root: string;
  /** Each image once, in the order the boards first need it. */
  images: PlannedImage[];
  boards: PlannedBoard[];
  /** Runs at once. */
  jobs: number;
  /** This machine's name in manifests, for N-way comparison across machines. */
  machine?: string;
  /** Boot each successful run with its board's boot check. */
  boot: boolean;
}

export interface BuildRequest {
  boards: readonly string[];
  all?: boolean;
  runs: number;
  jobs: number;
  /** CPUs the builds may use: the reference run's job count. */
  cores: number;
  machine?: string;
  boot?: boolean;
  /** `--vary`: variations to add to the defaults (reprotest-like names, or all). */
  vary?: readonly string[];
  /** `--no-vary`: variations to turn off. */
  noVary?: readonly string[];
}

function didYouMean(name: string, known: readonly string[]): string {
  const near = closestKey(name, known);
  return near ? `did you mean "${near}"?` : `expected one of: ${known.join(', ') || '(none)'}`;
}

/** The boards a command names, each once, in the order given; `all` takes every board. */
export function selectBoards(ws: Workspace, names: readonly string[], all: boolean): string[] {
  const known = [...ws.boards.keys()].sort();
  if (all && names.length > 0) {
    throw new UsageError(
      `--all builds every board, but boards were named too (${names.join(', ')})`,
      'use either --all or board names',
    );
  }
  // Heavy boards say `all: false`: built by name only (a board --all builds still gets its producers).
  if (all) return known.filter((n) => ws.boards.get(n)?.value.all !== false);
  const unknown = names.filter((n) => !ws.boards.has(n));
  if (unknown.length > 0) {
    throw new UsageError(
      unknown.map((n) => `board "${n}" is not in ${ws.root}/boards/: ${didYouMean(n, known)}`).join('\n'),
      'reprorom list shows every board (its image, source and inputs); boards are named by their file stem in boards/',
    );
  }
  return [...new Set(names)];
}

function pinEntry(ws: Workspace, from: Entry<unknown>, path: Array<string | number>, name: string) {
  const pin = ws.pins.get(name);
  if (!pin) throw new ConfigError([located(from.parsed, path, `pin "${name}" does not exist in pins/`)]);
  return pin;
}

/** One image with its pins resolved and its cache key computed. */
export function planImage(ws: Workspace, name: string): PlannedImage {
  const entry = ws.images.get(name);
  if (!entry) {
    throw new UsageError(
      `image "${name}" is not in ${ws.root}/images/: ${didYouMean(name, [...ws.images.keys()].sort())}`,
    );
  }
  const def = entry.value;
  const pins = [
    pinEntry(ws, entry, ['pin'], def.pin),
    ...def.extraPins.map((e, i) => pinEntry(ws, entry, ['extraPins', i, 'pin'], e.pin)),
  ];
  return {
    name,
    file: entry.file,
    definition: def,
    root: ws.root,
    pins,
    cacheKey: imageCacheKey(def, pins, toolVersion()),
  };
}

export function pinRef(entry: Entry<Pin>): LockedPinRef {
  return { name: entry.name, flake: entry.value.flake, narHash: entry.value.narHash };
}

export function plannedRuns(count: number, cores: number, choice = defaultChoice(cores)): PlannedRun[] {
  return Array.from({ length: count }, (_, i) => {
    const variation = variationFor(i + 1, cores, choice);
    return { index: i + 1, variation, varied: appliedVariations(variation, cores) };
  });
}

/** The board with its image and pins, and the variation of each of its runs. */
export function planBoard(
  ws: Workspace,
  name: string,
  runs: number,
  cores: number,
  images = new Map<string, PlannedImage>(),
  select: Pick<BuildRequest, 'vary' | 'noVary'> = {},
): PlannedBoard {
  const entry = ws.boards.get(name);
  if (!entry) throw new UsageError(`board "${name}" is not in ${ws.root}/boards/`);
  const board = entry.value;
  if (!ws.images.has(board.image)) {
    throw new ConfigError([
      located(entry.parsed, ['image'], `image "${board.image}" does not exist in images/`),
    ]);
  }
  const image = images.get(board.image) ?? planImage(ws, board.image);
  images.set(board.image, image);
  const [main, ...extra] = image.pins.map(pinRef);
  if (!main) throw new ConfigError([located(entry.parsed, ['image'], 'the image names no pin')]);
  const vary = chooseVariations({
    ...(select.vary ? { vary: select.vary } : {}),
    ...(select.noVary ? { noVary: select.noVary } : {}),
    ...(board.vary ? { board: board.vary } : {}),
    cores,
  });
  return {
    name,
    file: entry.file,
    entry,
    board,
    image,
    pin: main,
    extraPins: extra,
    vary,
    runs: plannedRuns(runs, cores, vary),
  };
}

/**
 * The selected boards and every board they take inputs from, producers first: a consumer's
 * run i uses its producer's run i, so a variation reaches the whole chain.
 */
export function planBuild(ws: Workspace, request: BuildRequest): BuildPlan {
  const names = withProducers(ws, selectBoards(ws, request.boards, Boolean(request.all)));
  const images = new Map<string, PlannedImage>();
  const select = {
    ...(request.vary ? { vary: request.vary } : {}),
    ...(request.noVary ? { noVary: request.noVary } : {}),
  };
  const boards = names.map((n) => planBoard(ws, n, request.runs, request.cores, images, select));
  return {
    root: ws.root,
    images: [...new Set(boards.map((b) => b.image))],
    boards,
    jobs: request.jobs,
    ...(request.machine ? { machine: request.machine } : {}),
    boot: Boolean(request.boot),
  };
}
