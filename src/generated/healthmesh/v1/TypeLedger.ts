// Original file: proto/healthmesh/v1/status.proto

import type { Nack as _healthmesh_v1_Nack, Nack__Output as _healthmesh_v1_Nack__Output } from '../../healthmesh/v1/Nack.js';
import type { Long } from '@grpc/proto-loader';

/**
 * One xDS resource type on one proxy's stream.
 */
export interface TypeLedger {
  'type_url'?: (string);
  'sent_version'?: (string);
  'sent_at_ms'?: (number | string | Long);
  'acked_version'?: (string);
  'acked_at_ms'?: (number | string | Long);
  /**
   * From the snapshot's publication to this proxy's ACK of it (absent until the first ACK).
   */
  'publish_to_ack_ms'?: (number | string | Long);
  'nacks'?: (number);
  /**
   * Absent while it never rejected anything.
   */
  'last_nack'?: (_healthmesh_v1_Nack | null);
  /**
   * Resources whose current version the proxy rejected: held back from it (not re-sent until they
   * change), so it lacks them even when it ACKed later responses of this type (first 100 names).
   */
  'held_back'?: (string)[];
  /**
   * A rejected response with several changes is still being narrowed down (bisected).
   */
  'bisecting'?: (boolean);
  '_publish_to_ack_ms'?: "publish_to_ack_ms";
}

/**
 * One xDS resource type on one proxy's stream.
 */
export interface TypeLedger__Output {
  'type_url': (string);
  'sent_version': (string);
  'sent_at_ms': (number);
  'acked_version': (string);
  'acked_at_ms': (number);
  /**
   * From the snapshot's publication to this proxy's ACK of it (absent until the first ACK).
   */
  'publish_to_ack_ms'?: (number);
  'nacks': (number);
  /**
   * Absent while it never rejected anything.
   */
  'last_nack': (_healthmesh_v1_Nack__Output | null);
  /**
   * Resources whose current version the proxy rejected: held back from it (not re-sent until they
   * change), so it lacks them even when it ACKed later responses of this type (first 100 names).
   */
  'held_back': (string)[];
  /**
   * A rejected response with several changes is still being narrowed down (bisected).
   */
  'bisecting': (boolean);
  '_publish_to_ack_ms'?: "publish_to_ack_ms";
}
