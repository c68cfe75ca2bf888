/**
 * The branch whose pushes run the generated workflow: `--branch NAME`, or the branch the
 * workspace's git checkout is on. Never a guessed `main`: a repository whose branch is
 * `master` (or `trunk`) would get a workflow that never runs on a push, silently.
 */
import { git } from '../sources/git.js';
import { UsageError } from '../util/errors.js';

/** What `git check-ref-format --branch` accepts, narrowed to what a YAML list item needs no quoting for. */
const BRANCH = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*@\{)[A-Za-z0-9._/-]{1,200}(?<![./])$/;

export function parseBranch(name: string): string {
  if (!BRANCH.test(name) || name.endsWith('.lock'))
    throw new UsageError(
      `--branch ${JSON.stringify(name)} is not a branch name`,
      'for example --branch main (letters, digits, ".", "_", "-" and "/")',
    );
  return name;
}

/** The branch the checkout at `root` is on; a usage error when there is none to name. */
export async function currentBranch(root: string): Promise<string> {
  let name: string;
  try {
    name = await git(['-C', root, 'symbolic-ref', '--quiet', '--short', 'HEAD']);
  } catch {
    throw new UsageError(
      `cannot tell which branch the workflow should run on: ${root} is not on a git branch (not a checkout, or a detached HEAD)`,
      'pass --branch NAME (the branch whose pushes run the workflow, e.g. --branch main)',
    );
  }
  return parseBranch(name);
}
