/** Board sources: fetch into the cache, verify, and materialise a private copy with its source hash. */

export { LOCAL_SKIP } from '../vocabulary/exclude.js';
export { availableVersions, indexedSha256 } from './debian.js';
export { SourceError } from './errors.js';
export type { CreationOrder } from './order.js';
export {
  type FetchedSource,
  type FetchOptions,
  fetchSource,
  type PreparedSource,
  type PrepareOptions,
  prepareSource,
} from './prepare.js';
export type { TreeEntry } from './tree.js';
export { treeListing } from './tree.js';
