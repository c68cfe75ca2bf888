/**
 * Regular expressions matched in time linear in the text (RE2 semantics, through re2js).
 * A board's `boot.expect` comes with a pull request and runs over whatever a guest prints:
 * JavaScript's backtracking engine would let `(a+)+$` spin for ever on a line of "a"s.
 */
import { RE2JS } from 're2js';

export interface LinearRegex {
  readonly source: string;
  /** The leftmost match in `text`, or null. */
  find(text: string): string | null;
}

export type CompiledRegex = { ok: true; regex: LinearRegex } | { ok: false; reason: string };

/** Longer patterns are mistakes or attacks: a banner needs a few dozen characters. */
export const MAX_PATTERN_LENGTH = 1000;

export async function compileLinear(source: string): Promise<CompiledRegex> {
  if (source.length > MAX_PATTERN_LENGTH)
    return {
      ok: false,
      reason: `the pattern is ${source.length} characters long, at most ${MAX_PATTERN_LENGTH}`,
    };
  try {
    const re = RE2JS.compile(source);
    return {
      ok: true,
      regex: {
        source,
        find(text: string): string | null {
          const m = re.matcher(text);
          return m.find() ? (m.group(0) ?? '') : null;
        },
      },
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: message.replace(/^error parsing regexp: /, '') };
  }
}
