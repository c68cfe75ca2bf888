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
