/**
 * Caps on what `compare` and friends read from an input file: a hashes.txt or
 * manifest.json is hostile input, and an unbounded one would only end in an
 * out-of-memory crash. Both caps are documented in the README; the line cap can be
 * raised (or lowered) with REPROROM_MAX_INPUT_LINES.
 */

/** Largest hashes.txt / manifest.json read: 256 MiB (a million sha256sum lines take about 100 MB). */
export const MAX_INPUT_BYTES = 256 * 1024 * 1024;

/** Largest public key, allowed_signers file or GnuPG keyring read (`verify --key`, `--keyring`): 1 MiB. */
export const MAX_KEY_BYTES = 1024 * 1024;

/** Largest detached signature (.sig, .asc) handed to ssh-keygen or gpg: 1 MiB. */
export const MAX_SIGNATURE_BYTES = 1024 * 1024;

/** Default cap on the lines of one hashes file. */
export const DEFAULT_MAX_INPUT_LINES = 2_000_000;

/** The line cap in force: REPROROM_MAX_INPUT_LINES when it is a positive whole number, else the default. */
export function maxInputLines(): number {
  const raw = process.env['REPROROM_MAX_INPUT_LINES'];
  const n = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_MAX_INPUT_LINES;
}

/** `1,048,576`: caps as a person reads them. */
export const formatCount = (n: number): string => n.toLocaleString('en-US');
