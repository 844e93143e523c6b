/**
 * Rendezvous (highest-random-weight) hashing: each key is owned by the live replica with the highest
 * weight hash(replica, key). Pure and deterministic: every replica that sees the same live set picks the
 * same owner, and removing a replica only moves the keys it owned.
 */
import { createHash } from 'node:crypto';

/** 64-bit weight of (replica, key): the first 8 bytes of SHA-256 over `replica \0 key`. */
export function rendezvousWeight(replicaId: string, key: string): bigint {
  return createHash('sha256').update(replicaId).update('\0').update(key).digest().readBigUInt64BE(0);
}

/** The owner of `key` among `liveReplicas` (ties, astronomically unlikely, go to the smaller id); undefined when none is live. */
export function ownerOf(key: string, liveReplicas: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const id of liveReplicas) {
    const w = rendezvousWeight(id, key);
    if (w > bestWeight || (w === bestWeight && best !== undefined && id < best)) {
      best = id;
      bestWeight = w;
    }
  }
  return best;
}
