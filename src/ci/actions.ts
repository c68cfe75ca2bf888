/**
 * The GitHub actions a generated workflow uses, each pinned to the commit its
 * release tag pointed at (tags move; a commit does not). Looked up in the
 * actions' own repositories: `git rev-parse vX.Y.Z^{commit}` in
 * github.com/actions/checkout, actions/cache, actions/upload-artifact and
 * actions/download-artifact. The workflow names the version in a comment.
 */
export interface PinnedAction {
  /** OWNER/NAME[/PATH] */
  name: string;
  commit: string;
  version: string;
}

const pin = (name: string, commit: string, version: string): PinnedAction => ({ name, commit, version });

export const ACTIONS = {
  checkout: pin('actions/checkout', '11d5960a326750d5838078e36cf38b85af677262', 'v4.4.0'),
  cache: pin('actions/cache', '0057852bfaa89a56745cba8c7296529d2fc39830', 'v4.3.0'),
  cacheRestore: pin('actions/cache/restore', '0057852bfaa89a56745cba8c7296529d2fc39830', 'v4.3.0'),
  cacheSave: pin('actions/cache/save', '0057852bfaa89a56745cba8c7296529d2fc39830', 'v4.3.0'),
  uploadArtifact: pin('actions/upload-artifact', 'ea165f8d65b6e75b540449e92b4886f43607fa02', 'v4.6.2'),
  downloadArtifact: pin('actions/download-artifact', 'd3f86a106a0bac45b974a628896c90dbdf5c8093', 'v4.3.0'),
} as const;

/** The `uses:` value of a pinned action. */
export function uses(action: PinnedAction): string {
  return `${action.name}@${action.commit}`;
}

/**
 * Add `# VERSION` after every `uses: NAME@COMMIT` line of a YAML text whose
 * commit is in `versions` (the yaml library writes no comments of its own here).
 */
export function commentVersions(text: string, versions: ReadonlyMap<string, string>): string {
  return text.replace(/^(\s*(?:- )?uses: ([^\s@]+)@([0-9a-f]{40}))$/gm, (line, _all, name, commit) => {
    const version = versions.get(`${name}@${commit}`);
    return version ? `${line} # ${version}` : line;
  });
}

/** The version comments of ACTIONS, keyed by `NAME@COMMIT`. */
export function actionVersions(): Map<string, string> {
  return new Map(Object.values(ACTIONS).map((a) => [uses(a), a.version]));
}
