/**
 * The `replication:` section of the configuration (opt-in): where etcd is, under which key prefix
 * healthmesh keeps its shared state, and who this replica is. Without the section healthmesh runs as
 * one process on SQLite, exactly as before. `replicationConfigSchema` is mounted by ./schema.ts.
 */
import { z } from 'zod';

const endpoint = z.string().regex(/^https?:\/\/[^\s/]+(:\d{1,5})?$/, 'an etcd client URL, e.g. "http://127.0.0.1:2379"');

/** host:port other replicas and Envoys can reach this replica's xDS server at. */
const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/, 'a "host:port" address');

export const replicationConfigSchema = z
  .object({
    etcd: z
      .object({
        endpoints: z.array(endpoint).min(1).max(16),
        /** Deadline of each unary etcd call; past it the call fails with EtcdUnavailableError. */
        requestTimeoutMs: z.number().int().min(100).max(60_000).default(2000),
        /** gRPC keepalive ping interval: how soon a silent (hung) etcd connection is noticed. etcd refuses pings
         *  more often than its --grpc-keepalive-min-time (default 5 s). */
        keepaliveMs: z.number().int().min(1000).max(300_000).default(5000),
      })
      .strict(),
    /** Every key healthmesh writes starts with this; several deployments can share one etcd. */
    keyPrefix: z
      .string()
      .regex(/^\/[A-Za-z0-9_.\-/]*[A-Za-z0-9_.-]$/, 'starts with "/", letters, digits, "_", ".", "-", "/", no trailing "/"')
      .default('/healthmesh'),
    /** Lease TTL of this replica's membership key: a dead replica's endpoints are re-owned within it. */
    leaseTtlSeconds: z.number().int().min(2).max(60).default(5),
    /** Unique among the replicas; ends up in etcd keys. */
    replicaId: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, "_", ".", ":" or "-" only'),
    /** Where Envoys and the other replicas reach this replica. */
    advertisedAddress: hostPort,
  })
  .strict();

export type ReplicationConfig = z.infer<typeof replicationConfigSchema>;
