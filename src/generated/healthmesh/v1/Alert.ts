// Original file: proto/healthmesh/v1/status.proto

import type { AlertLevel as _healthmesh_v1_AlertLevel, AlertLevel__Output as _healthmesh_v1_AlertLevel__Output } from '../../healthmesh/v1/AlertLevel.js';
import type { AlertState as _healthmesh_v1_AlertState, AlertState__Output as _healthmesh_v1_AlertState__Output } from '../../healthmesh/v1/AlertState.js';
import type { Long } from '@grpc/proto-loader';

export interface Alert {
  'id'?: (string);
  'rule'?: (string);
  'level'?: (_healthmesh_v1_AlertLevel);
  /**
   * What it is about: a cluster name, an endpoint key, a proxy node id.
   */
  'subject'?: (string);
  'cluster'?: (string);
  'message'?: (string);
  'state'?: (_healthmesh_v1_AlertState);
  'fired_at_ms'?: (number | string | Long);
  /**
   * Last time the condition was seen (aggregated repeats update it).
   */
  'last_seen_at_ms'?: (number | string | Long);
  'resolved_at_ms'?: (number | string | Long);
  'acknowledged_at_ms'?: (number | string | Long);
  'acknowledged_by'?: (string);
  /**
   * How many times it fired or was re-raised while firing.
   */
  'count'?: (number);
}

export interface Alert__Output {
  'id': (string);
  'rule': (string);
  'level': (_healthmesh_v1_AlertLevel__Output);
  /**
   * What it is about: a cluster name, an endpoint key, a proxy node id.
   */
  'subject': (string);
  'cluster': (string);
  'message': (string);
  'state': (_healthmesh_v1_AlertState__Output);
  'fired_at_ms': (number);
  /**
   * Last time the condition was seen (aggregated repeats update it).
   */
  'last_seen_at_ms': (number);
  'resolved_at_ms': (number);
  'acknowledged_at_ms': (number);
  'acknowledged_by': (string);
  /**
   * How many times it fired or was re-raised while firing.
   */
  'count': (number);
}
