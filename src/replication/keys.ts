/** Key layout under the configured prefix (see README "Replication (etcd)"). */
export const replicasPrefix = (prefix: string): string => `${prefix}/replicas/`;
export const replicaKey = (prefix: string, replicaId: string): string => `${prefix}/replicas/${replicaId}`;
export const ownerClaimsPrefix = (prefix: string): string => `${prefix}/owners/`;
export const ownerClaimKey = (prefix: string, key: string): string => `${prefix}/owners/${key}`;
export const leaderKey = (prefix: string, name: string): string => `${prefix}/leader/${name}`;
export const adsPresencePrefix = (prefix: string): string => `${prefix}/ads/`;
export const notifiedPrefix = (prefix: string): string => `${prefix}/alerts/notified/`;
