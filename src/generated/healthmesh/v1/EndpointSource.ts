// Original file: proto/healthmesh/v1/status.proto

export const EndpointSource = {
  ENDPOINT_SOURCE_UNSPECIFIED: 'ENDPOINT_SOURCE_UNSPECIFIED',
  /**
   * Declared in the configuration file.
   */
  ENDPOINT_SOURCE_CONFIG: 'ENDPOINT_SOURCE_CONFIG',
  /**
   * Registered over this API.
   */
  ENDPOINT_SOURCE_RUNTIME: 'ENDPOINT_SOURCE_RUNTIME',
} as const;

export type EndpointSource =
  | 'ENDPOINT_SOURCE_UNSPECIFIED'
  | 0
  /**
   * Declared in the configuration file.
   */
  | 'ENDPOINT_SOURCE_CONFIG'
  | 1
  /**
   * Registered over this API.
   */
  | 'ENDPOINT_SOURCE_RUNTIME'
  | 2

export type EndpointSource__Output = typeof EndpointSource[keyof typeof EndpointSource]
