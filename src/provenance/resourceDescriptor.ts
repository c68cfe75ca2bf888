// An in-toto ResourceDescriptor: one dependency of a build, named, with its digests.
// Its own file so inputs.ts and statement.ts both use it without importing each other.
// (A line comment, not JSDoc: the generated provenance schema would take JSDoc as the type's description.)

export interface ResourceDescriptor {
  name: string;
  uri?: string;
  digest: Record<string, string>;
  annotations?: Record<string, string>;
}
