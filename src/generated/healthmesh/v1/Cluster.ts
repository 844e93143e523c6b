// Original file: proto/healthmesh/v1/status.proto


export interface Cluster {
  'name'?: (string);
  'total'?: (number);
  /**
   * Endpoints published HEALTHY (serving at some weight).
   */
  'healthy'?: (number);
  'failing'?: (number);
  'ejected'?: (number);
  'guarded'?: (number);
  /**
   * At most this many may be ejected at once (the guard).
   */
  'max_ejected'?: (number);
  'all_failing'?: (boolean);
  /**
   * Why the guard stepped in, when it did.
   */
  'reason'?: (string);
}

export interface Cluster__Output {
  'name': (string);
  'total': (number);
  /**
   * Endpoints published HEALTHY (serving at some weight).
   */
  'healthy': (number);
  'failing': (number);
  'ejected': (number);
  'guarded': (number);
  /**
   * At most this many may be ejected at once (the guard).
   */
  'max_ejected': (number);
  'all_failing': (boolean);
  /**
   * Why the guard stepped in, when it did.
   */
  'reason': (string);
}
