/**
 * The JSON contract, checked on real outputs: the object a command printed with `--json`
 * validates against its schema in schemas/output/ (ajv, draft-07), names its kind, and says
 * `ok: false` with an `error` exactly when the command failed, with the exit code it exited with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { expect } from 'vitest';
import type { JsonKind } from '../../src/contracts/json.js';
import { repoRoot } from './cli.js';

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = new Map<string, ValidateFunction>();

/** A validator for a schema file under schemas/ (compiled once). */
export function validatorFor(file: string): ValidateFunction {
  let v = validators.get(file);
  if (!v) {
    v = ajv.compile(JSON.parse(readFileSync(join(repoRoot, 'schemas', file), 'utf8')) as object);
    validators.set(file, v);
  }
  return v;
}

/** The errors of `value` against a schema file, readable in a test failure. */
export function schemaErrors(file: string, value: unknown): string[] {
  const v = validatorFor(file);
  if (v(value)) return [];
  return (v.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
  );
}

export interface CommandOutput {
  stdout: string;
  exitCode: number;
}

/** Parse and check one `--json` output; returns it for further assertions. */
export function expectJsonOutput(
  kind: JsonKind,
  r: CommandOutput,
): Record<string, unknown> & { ok: boolean } {
  let value: Record<string, unknown> & { ok: boolean };
  try {
    value = JSON.parse(r.stdout) as typeof value;
  } catch {
    throw new Error(`${kind}: stdout is not one JSON value (exit ${r.exitCode}):\n${r.stdout}`);
  }
  expect(schemaErrors(`output/${kind}.schema.json`, value), `${kind}: ${r.stdout.slice(0, 2000)}`).toEqual(
    [],
  );
  expect(value['schema']).toBe(`reprorom.${kind}/v1`);
  expect(value.ok, `${kind}: ok must say whether the command succeeded`).toBe(r.exitCode === 0);
  const error = value['error'] as { exitCode: number } | undefined;
  if (r.exitCode === 0) expect(error).toBeUndefined();
  else expect(error?.exitCode, `${kind}: error.exitCode`).toBe(r.exitCode);
  return value;
}
