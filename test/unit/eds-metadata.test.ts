import { describe, expect, it } from 'vitest';
import { decodeAny, packAny, TYPE } from '../../src/xds/protos.js';
import { endpointsResource, proxylessEndpointsResource, type EndpointState } from '../../src/xds/resources.js';

const eps: EndpointState[] = [{ address: '10.0.0.1', port: 80, weight: 1, health: 'HEALTHY', metadata: { team: 'payments', shard: 3, canary: true } }];

type Decoded = { endpoints: Array<{ lb_endpoints: Array<{ metadata: { filter_metadata: { healthmesh: { fields: Record<string, unknown> } } } }> }> };

describe('EDS endpoint metadata', () => {
  it.each([
    ['Envoy', endpointsResource],
    ['proxyless', proxylessEndpointsResource],
  ])('survives the protobuf encoding with its values (%s shape)', (_shape, build) => {
    const decoded = decodeAny<Decoded>(packAny(TYPE.endpoint, build('c', eps).message));
    expect(decoded.endpoints[0]!.lb_endpoints[0]!.metadata.filter_metadata.healthmesh.fields).toEqual({
      canary: { boolValue: true },
      shard: { numberValue: 3 },
      team: { stringValue: 'payments' },
    });
  });
});
