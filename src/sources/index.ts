/** Board sources: fetch into the cache, verify, and materialise a private copy with its source hash. */
export { SourceError } from './errors.js';
export { type FetchedSource, type FetchOptions, fetchSource, LOCAL_SKIP, type PreparedSource, type PrepareOptions, prepareSource } from './prepare.js';
export { availableVersions, indexedSha256 } from './debian.js';
export type { CreationOrder } from './order.js';
export { treeListing } from './tree.js';
