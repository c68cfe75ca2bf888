/** re2js behind a module of our own: the bundle loads it on first use, as its own named chunk. */
export { RE2JS } from 're2js';
