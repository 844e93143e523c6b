// Original file: proto/healthmesh/v1/status.proto


/**
 * End of the initial state: every event after it is a live change.
 */
export interface Synced {
  'clusters'?: (number);
  'endpoints'?: (number);
}

/**
 * End of the initial state: every event after it is a live change.
 */
export interface Synced__Output {
  'clusters': (number);
  'endpoints': (number);
}
