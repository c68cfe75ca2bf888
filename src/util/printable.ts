/**
 * Text from input files (board names, artifact paths, Heads headers) shown on a
 * terminal: control characters (escape sequences, bells, C1 codes) and bidirectional
 * overrides are written as visible `\uXXXX` escapes, so a hostile file can neither
 * drive the terminal nor reorder what the user reads.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * printable() for text of several lines (a message with its hint, a log tail, a Markdown
 * summary): every line made printable, the line breaks and tabs kept.
 */
export function printableLines(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => line.split('\t').map(printable).join('\t'))
    .join('\n');
}

const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON text as JSON.stringify wrote it, with the characters it leaves raw (DEL, C1 codes,
 * bidirectional overrides, line separators) written as `\uXXXX` escapes: the same value
 * once parsed, but nothing that drives a terminal or reorders what a person reads.
 * (JSON.stringify already escapes C0 codes; these characters only occur inside strings.)
 */
export function printableJson(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
