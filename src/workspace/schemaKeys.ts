/**
 * Which keys a mapping may hold at a given path of a workspace schema, so an
 * "unknown key" message can list them and suggest the one that was meant.
 */
import type * as z from 'zod/mini';
import type { PathKey } from './yamlFile.js';

/** The few fields of zod's internal definition that the walk needs. */
interface Def {
  type: string;
  shape?: Record<string, z.ZodMiniType>;
  innerType?: z.ZodMiniType;
  element?: z.ZodMiniType;
  options?: z.ZodMiniType[];
  discriminator?: string;
  valueType?: z.ZodMiniType;
  in?: z.ZodMiniType;
  values?: unknown[];
}

function defOf(schema: z.ZodMiniType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Skip wrappers (default, optional, …) that do not change the shape. */
function unwrap(schema: z.ZodMiniType): z.ZodMiniType {
  let s = schema;
  for (let i = 0; i < 16; i++) {
    const d = defOf(s);
    if (d.innerType && ['default', 'optional', 'nullable', 'prefault', 'readonly', 'catch'].includes(d.type))
      s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else break;
  }
  return s;
}

/** For a discriminated union, the option the value names (or every option if it names none). */
function objectOptions(schema: z.ZodMiniType, value: unknown): z.ZodMiniType[] {
  const s = unwrap(schema);
  const d = defOf(s);
  if (d.type !== 'union' || !d.options) return [s];
  const tag = d.discriminator;
  const wanted =
    tag && value && typeof value === 'object' ? (value as Record<string, unknown>)[tag] : undefined;
  const matching = d.options.filter((o) => {
    const lit = tag ? defOf(unwrap(o)).shape?.[tag] : undefined;
    return lit !== undefined && (defOf(unwrap(lit)).values ?? []).includes(wanted);
  });
  return matching.length > 0 ? matching : d.options;
}

/** Allowed keys of the mapping at `path` in `root` (given the parsed value), or [] if unknown. */
export function allowedKeys(root: z.ZodMiniType, path: readonly PathKey[], value: unknown): string[] {
  let schemas: z.ZodMiniType[] = [root];
  let current: unknown = value;
  for (const key of path) {
    const next: z.ZodMiniType[] = [];
    for (const s of schemas) {
      for (const option of objectOptions(s, current)) {
        const d = defOf(option);
        if (d.type === 'object' && d.shape && typeof key === 'string' && d.shape[key])
          next.push(d.shape[key]);
        else if (d.type === 'array' && d.element && typeof key === 'number') next.push(d.element);
        else if (d.type === 'record' && d.valueType) next.push(d.valueType);
      }
    }
    schemas = next;
    current =
      current && typeof current === 'object' ? (current as Record<string | number, unknown>)[key] : undefined;
  }
  const keys = new Set<string>();
  for (const s of schemas)
    for (const option of objectOptions(s, current))
      for (const k of Object.keys(defOf(option).shape ?? {})) keys.add(k);
  return [...keys];
}

/** The allowed key closest to `typo` (case, a letter or two), if one is close enough to be a likely slip. */
export function closestKey(typo: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of allowed) {
    const d = k.toLowerCase() === typo.toLowerCase() ? 0 : distance(typo, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  const limit = typo.length <= 4 ? 1 : 2;
  return bestDistance <= limit ? best : undefined;
}

/** Levenshtein distance, capped work: keys are short. */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64 || b.length > 64) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
