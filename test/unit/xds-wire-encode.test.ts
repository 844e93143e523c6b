import { describe, expect, it } from 'vitest';
import { encodeAny, encodeDeltaResource, messageType } from '../../src/xds/protos.js';
import { encodeDeltaResponse, encodeSotwResponse } from '../../src/xds/wire.js';

/** The hand-assembled response bytes decode, with protobufjs and Envoy's own message types, to exactly the fields put in. */
const decode = (type: string, buf: Buffer) => {
  const t = messageType(type);
  return t.toObject(t.decode(buf), { longs: String, enums: String, arrays: true }) as Record<string, unknown>;
};

const any = (n: number) => encodeAny({ type_url: 'type.googleapis.com/google.protobuf.StringValue', value: Buffer.alloc(n, 7) });
// Sizes around the 1-, 2- and 3-byte length prefixes.
const resources = [any(1), any(125), any(126), any(300), any(16_380), any(70_000)];

describe('ADS response encoding', () => {
  it('SotW: version, every resource in order, type_url, nonce and the control plane id', () => {
    const version = 'v-ünïcødé-42';
    const nonce = 'abc.élan.7';
    const out = decode(
      'envoy.service.discovery.v3.DiscoveryResponse',
      encodeSotwResponse({ version_info: version, type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster', nonce, resources }),
    );
    expect(out.version_info ?? out.versionInfo).toBe(version);
    expect(out.type_url ?? out.typeUrl).toBe('type.googleapis.com/envoy.config.cluster.v3.Cluster');
    expect(out.nonce).toBe(nonce);
    expect((out.control_plane ?? out.controlPlane) as { identifier: string }).toEqual({ identifier: 'healthmesh' });
    const got = out.resources as Array<{ value: Uint8Array }>;
    expect(got.map((r) => r.value.length)).toEqual([1, 125, 126, 300, 16_380, 70_000]);
  });

  it('Delta: resources, removed names (multi-byte too) and the control plane id; no resources at all is valid', () => {
    const removed = ['gone', 'ñame-✓', 'x'.repeat(200)];
    const out = decode(
      'envoy.service.discovery.v3.DeltaDiscoveryResponse',
      encodeDeltaResponse({
        system_version_info: '9',
        type_url: 'type.googleapis.com/x.Y',
        nonce: 'n1',
        resources: [encodeDeltaResource('a', 'v1', resources[0]!), encodeDeltaResource('b', 'v2', resources[5]!)],
        removed_resources: removed,
      }),
    );
    expect(out.system_version_info ?? out.systemVersionInfo).toBe('9');
    expect(out.removed_resources ?? out.removedResources).toEqual(removed);
    expect((out.resources as Array<{ name: string; version: string }>).map((r) => [r.name, r.version])).toEqual([
      ['a', 'v1'],
      ['b', 'v2'],
    ]);
    expect((out.control_plane ?? out.controlPlane) as { identifier: string }).toEqual({ identifier: 'healthmesh' });
    const empty = decode(
      'envoy.service.discovery.v3.DeltaDiscoveryResponse',
      encodeDeltaResponse({ system_version_info: '', type_url: 'type.googleapis.com/x.Y', nonce: '', resources: [], removed_resources: [] }),
    );
    expect(empty.resources).toEqual([]);
    expect(empty.type_url ?? empty.typeUrl).toBe('type.googleapis.com/x.Y');
  });
});
