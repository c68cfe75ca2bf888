/** Output conventions: results on stdout, progress and errors on stderr, colour only for a person. */
import type { ErrorCodeJson, ErrorJson, FailureJson, JsonKind, JsonOutputs } from '../contracts/json.js';
import { JSON_KIND_OF_COMMAND } from '../contracts/json.js';
import {
  ConfigError,
  EngineUnavailableError,
  EnvironmentError,
  ExitCode,
  InterruptedError,
  type ReproromError,
} from '../util/errors.js';
import { printableJson, printableLines } from '../util/printable.js';

export function colourAllowed(stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && !process.env['CI'] && process.env['NO_COLOR'] === undefined;
}

export function paint(
  code: 'red' | 'green' | 'yellow' | 'dim',
  text: string,
  stream?: NodeJS.WriteStream,
): string {
  if (!colourAllowed(stream ?? process.stdout)) return text;
  const codes = { red: 31, green: 32, yellow: 33, dim: 2 } as const;
  return `\u001b[${codes[code]}m${text}\u001b[0m`;
}

/** The colour codes paint() writes: the only escape sequences that may reach a terminal. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching our own escape sequences
const OWN_COLOUR = /(\u001b\[(?:0|2|31|32|33)m)/;

/**
 * The one sanitiser between reprorom and a terminal or log reader: text from boards,
 * sources, URLs and build logs (an `off` reason, a URL in an error, a log tail) may carry
 * escape sequences, bells or bidirectional overrides. Every line is made printable
 * (util/printable.ts), line breaks kept; paint()'s own colour codes are kept where colour
 * is allowed on `stream`, and escaped like anything else where it is not.
 */
export function terminalText(text: string, stream: NodeJS.WriteStream): string {
  if (!colourAllowed(stream)) return printableLines(text);
  return text
    .split(OWN_COLOUR)
    .map((part, i) => (i % 2 === 1 ? part : printableLines(part)))
    .join('');
}

/** Text for stdout (results), through the sanitiser. */
export function writeOut(text: string): void {
  process.stdout.write(terminalText(text, process.stdout));
}

/** Text for stderr (progress, messages, hints), through the sanitiser. */
export function writeErr(text: string): void {
  process.stderr.write(terminalText(text, process.stderr));
}

let jsonPrinted = false;

function writeJson(value: unknown): void {
  jsonPrinted = true;
  process.stdout.write(`${printableJson(JSON.stringify(value, null, 2))}\n`);
}

/** A command's `--json` result: one object of the documented kind (src/contracts/json.ts). */
export function printOutput<K extends JsonKind>(_kind: K, value: JsonOutputs[K]): void {
  writeJson(value);
}

/** Whether this process already printed its `--json` result (an error after it prints no second one). */
export function outputPrinted(): boolean {
  return jsonPrinted;
}

export function printLine(line = ''): void {
  writeOut(`${line}\n`);
}

/** The `schema` tag of an output kind. */
export function schemaOf<K extends JsonKind>(kind: K): `reprorom.${K}/v1` {
  return `reprorom.${kind}/v1`;
}

const CODE_OF_EXIT: Record<number, ErrorCodeJson> = {
  [ExitCode.mismatch]: 'mismatch',
  [ExitCode.config]: 'usage',
  [ExitCode.environment]: 'environment',
  [ExitCode.buildFailed]: 'build-failed',
  [ExitCode.interrupted]: 'interrupted',
};

/** The `error` of a result whose `ok` is false (a mismatch, a failed run): no exception involved. */
export function outcomeError(exitCode: number, message: string, hint?: string): ErrorJson {
  return { code: CODE_OF_EXIT[exitCode] ?? 'internal', exitCode, message, hint: hint ?? null };
}

/**
 * A verdict's `ok` and, only when it is false, its `error` (a mismatch, exit 1): the block
 * every `verify` JSON (rebuild or attestations) starts with. `message` is asked only on failure.
 */
export function failureOf(
  ok: boolean,
  message: () => string,
  hint: string,
): { ok: boolean; error?: ErrorJson } {
  return ok ? { ok } : { ok, error: outcomeError(ExitCode.mismatch, message(), hint) };
}

/** An error as the JSON contract describes it; `exitCode` is what the process exits with. */
export function errorJson(err: ReproromError): ErrorJson {
  const code: ErrorCodeJson =
    err instanceof ConfigError
      ? 'config'
      : err instanceof EngineUnavailableError
        ? 'engine-unavailable'
        : err instanceof EnvironmentError
          ? 'environment'
          : err instanceof InterruptedError
            ? 'interrupted'
            : (CODE_OF_EXIT[err.exitCode] ?? 'internal');
  return {
    code,
    exitCode: err.exitCode,
    message: err.message,
    hint: err.hint ?? null,
    ...(err instanceof ConfigError ? { problems: err.problems } : {}),
  };
}

/** The output of a command that could not produce its result. */
export function failureJson<K extends JsonKind>(kind: K, error: ErrorJson): FailureJson<`reprorom.${K}/v1`> {
  return { schema: schemaOf(kind), ok: false, error };
}

/**
 * The output kind a command line asks for with `--json`, or undefined (no `--json`, or no
 * command that has one). Read from argv, so a usage error commander raises still gets its JSON.
 */
export function jsonKindOf(args: readonly string[]): JsonKind | undefined {
  const end = args.indexOf('--');
  const before = end < 0 ? args : args.slice(0, end);
  if (!before.includes('--json')) return undefined;
  const words = before.filter((a) => !a.startsWith('-'));
  const [first = '', second = ''] = words;
  return JSON_KIND_OF_COMMAND[`${first} ${second}`] ?? JSON_KIND_OF_COMMAND[first];
}

/** Print the failure object of `kind` unless the command already printed its result. */
export function printFailure(kind: JsonKind | undefined, error: ErrorJson): void {
  if (kind === undefined || jsonPrinted) return;
  writeJson(failureJson(kind, error));
}
