import { describe, expect, it } from 'vitest';
import { decodeAny, packAny, TYPE } from '../../src/xds/protos.js';
import type { ClusterLoadAssignment } from '../../src/generated/envoy/config/endpoint/v3/ClusterLoadAssignment.js';
import { endpointsResource, proxylessEndpointsResource, type EndpointState } from '../../src/xds/resources.js';

const eps: EndpointState[] = [
  { address: '10.0.0.2', port: 80, zone: 'a', weight: 300, health: 'HEALTHY' },
  { address: '10.0.0.1', port: 80, zone: 'a', weight: 100, health: 'HEALTHY' },
  { address: '10.0.0.3', port: 80, weight: 100, health: 'UNHEALTHY' },
  { address: '::1', port: 81, weight: 10, health: 'HEALTHY' },
];

describe('proxylessEndpointsResource: endpoint weights as locality weights', () => {
  it('puts each endpoint in its own locality weighted by its endpoint weight, keeping health and zone', () => {
    const decoded = decodeAny<{
      endpoints: Array<{
        locality: Record<string, string>;
        load_balancing_weight: { value: number };
        lb_endpoints: Array<{ health_status: string; load_balancing_weight: { value: number } }>;
      }>;
    }>(packAny(TYPE.endpoint, proxylessEndpointsResource('c', eps).message));
    // Sorted by address as strings (as endpointsResource does).
    expect(
      decoded.endpoints.map((l) => [
        l.locality,
        l.load_balancing_weight.value,
        l.lb_endpoints[0]!.health_status,
        l.lb_endpoints[0]!.load_balancing_weight.value,
      ]),
    ).toEqual([
      [{ sub_zone: '[::1]:81' }, 10, 'HEALTHY', 10],
      [{ zone: 'a', sub_zone: '10.0.0.1:80' }, 100, 'HEALTHY', 100],
      [{ zone: 'a', sub_zone: '10.0.0.2:80' }, 300, 'HEALTHY', 300],
      [{ sub_zone: '10.0.0.3:80' }, 1, 'UNHEALTHY', 100],
    ]);
  });

  it('publishes the same endpoints, health and endpoint weights as the Envoy shape', () => {
    const flat = (m: ClusterLoadAssignment) =>
      ((m.endpoints ?? []) as Array<{ lb_endpoints: Array<{ endpoint: unknown; health_status: string; load_balancing_weight: unknown }> }>)
        .flatMap((l) => l.lb_endpoints.map((e) => JSON.stringify([e.endpoint, e.health_status, e.load_balancing_weight])))
        .sort();
    expect(flat(proxylessEndpointsResource('c', eps).message)).toEqual(flat(endpointsResource('c', eps).message));
  });
});
