/** Output conventions: results on stdout, progress and errors on stderr, colour only for a person. */

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

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(line = ''): void {
  process.stdout.write(`${line}\n`);
}
