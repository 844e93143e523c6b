/** Replication on etcd: engine-agnostic primitives (see README "Replication (etcd)"). */
export { replicationConfigSchema, type ReplicationConfig } from './config.js';
export { connectEtcd, etcdCall, isUnavailable, type EtcdClientOptions } from './client.js';
export { EtcdRequestError, EtcdUnavailableError, ReplicatedValueError } from './errors.js';
export { ownerOf, rendezvousWeight } from './hash.js';
export { leaderKey, ownerClaimKey, ownerClaimsPrefix, replicaKey, replicasPrefix } from './keys.js';
export { LeaderElection, type LeaderElectionOptions } from './election.js';
export {
  ReplicatedMap,
  type BatchEntry,
  type BatchOutcome,
  type MapSnapshot,
  type MapWatch,
  type MapWatchHandlers,
  type OwnerGuard,
  type PutOutcome,
  type ReplicatedMapOptions,
} from './map.js';
export { OwnershipClaims, type OwnershipClaimsOptions, type ReconcileResult } from './ownership.js';
export { ReplicaRegistry, replicaInfoSchema, type ReplicaInfo, type ReplicaRegistryOptions } from './registry.js';
export { EtcdStatus, type EtcdStatusSnapshot } from './status.js';
