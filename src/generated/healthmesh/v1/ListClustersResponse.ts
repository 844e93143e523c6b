// Original file: proto/healthmesh/v1/status.proto

import type { Cluster as _healthmesh_v1_Cluster, Cluster__Output as _healthmesh_v1_Cluster__Output } from '../../healthmesh/v1/Cluster.js';

export interface ListClustersResponse {
  'clusters'?: (_healthmesh_v1_Cluster)[];
  /**
   * What runs degraded while healthmesh keeps serving, e.g. "etcd unreachable since <time> (<error>)"
   * on a replica (replicated mode); empty when nothing is.
   */
  'degraded'?: (string)[];
}

export interface ListClustersResponse__Output {
  'clusters': (_healthmesh_v1_Cluster__Output)[];
  /**
   * What runs degraded while healthmesh keeps serving, e.g. "etcd unreachable since <time> (<error>)"
   * on a replica (replicated mode); empty when nothing is.
   */
  'degraded': (string)[];
}
