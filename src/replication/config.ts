/** The replication section's schema lives with the rest of the configuration (src/config/replication-schema.ts). */
export { replicationConfigSchema, type ReplicationConfig } from '../config/replication-schema.js';
