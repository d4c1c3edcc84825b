// Guids the CC makes. node's randomUUID() hands back a rope of about thirty slices (its hex digits joined
// piece by piece), about 490 bytes of heap where the flat string is 68; nothing flattens it while it is only
// a map key, an object's field or a JSON string, so a store of 50,000 apps kept ~40 MB of ropes once its
// rows were no longer also bound into SQLite (which flattened each on the way). normalize() returns the
// flat string, unchanged: a UUID is ASCII, which every Unicode normal form leaves as it is.
import { randomUUID } from 'node:crypto'

/** A random (version 4) UUID, as one flat string. */
export function newGuid(): string {
  return randomUUID().normalize()
}
