// Original file: proto/healthmesh/v1/status.proto

export const XdsProtocol = {
  XDS_PROTOCOL_UNSPECIFIED: 'XDS_PROTOCOL_UNSPECIFIED',
  /**
   * State of the world.
   */
  XDS_PROTOCOL_SOTW: 'XDS_PROTOCOL_SOTW',
  /**
   * Incremental (Delta).
   */
  XDS_PROTOCOL_DELTA: 'XDS_PROTOCOL_DELTA',
} as const;

export type XdsProtocol =
  | 'XDS_PROTOCOL_UNSPECIFIED'
  | 0
  /**
   * State of the world.
   */
  | 'XDS_PROTOCOL_SOTW'
  | 1
  /**
   * Incremental (Delta).
   */
  | 'XDS_PROTOCOL_DELTA'
  | 2

export type XdsProtocol__Output = typeof XdsProtocol[keyof typeof XdsProtocol]
