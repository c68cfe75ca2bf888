/** Options several commands share, built fresh for each command (commander owns an Option once added). */
import { Option } from 'commander';

export const workspaceOption = () =>
  new Option('-w, --workspace <dir>', 'workspace folder (pins/, images/, boards/)').default('.');

/** A repeatable list option: each use adds its (comma-separated) names. */
export const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

/**
 * `--no-vary <names>` takes names: commander would read a `--no-` option as the negation
 * of `--vary`, so it is told otherwise (its own attribute, noVary).
 */
export function noVaryOption(): Option {
  const option = new Option(
    '--no-vary <names>',
    'variations to turn off, comma-separated (or all)',
  ).argParser(collect);
  option.negate = false;
  option.attributeName = () => 'noVary';
  return option;
}
