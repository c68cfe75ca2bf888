import { ExitCode, ReproromError } from '../util/errors.js';

/**
 * A source that cannot be used as pinned: a wrong hash, a link out of the tree,
 * a package the mirror does not serve. Exit code 2, like other configuration problems.
 */
export class SourceError extends ReproromError {
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, ExitCode.config, hint, options);
  }
}
