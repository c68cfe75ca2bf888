// Types for bench/report.js (plain ESM so `npm run bench` needs no compile step),
// used by test/unit/bench-report.test.ts.

export type TargetOp = '<' | '<=' | '>' | '>=';

/** A limit on the value itself, or on value ÷ baseline. */
export interface Target {
  on: 'value' | 'ratio';
  op: TargetOp;
  limit: number;
}

export interface RowInput {
  id: string;
  name: string;
  value: number;
  baseline?: number | null;
  unit: string;
  target?: Target | null;
  note?: string;
  samples?: { value?: number[]; baseline?: number[] };
}

export interface Row {
  id: string;
  name: string;
  value: number;
  baseline: number | null;
  ratio: number | null;
  unit: string;
  target: string;
  targetSpec: Target | null;
  /** null: informational row without a target. */
  pass: boolean | null;
  note: string;
  samples?: { value?: number[]; baseline?: number[] };
}

export function median(xs: readonly number[]): number;
export function ratioOf(value: number, baseline: number | null | undefined): number | null;
export function meets(target: Target | null | undefined, value: number, ratio: number | null): boolean | null;
export function targetText(target: Target | null | undefined, unit: string): string;
export function formatNumber(x: number | null | undefined, unit: string): string;
export function makeRow(input: RowInput): Row;
export function verdict(row: Pick<Row, 'pass'>): 'pass' | 'MISS' | 'info';
export function summary(rows: readonly Row[]): { passed: number; missed: string[]; info: number };
export function textTable(rows: readonly Row[]): string;
export function markdownTable(rows: readonly Row[]): string;
