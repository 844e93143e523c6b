import { describe, expect, it } from 'vitest';
import { encodeAny, encodeDeltaResource, messageType } from '../../src/xds/protos.js';
import {
  decodeDeltaRequest,
  decodeNode,
  decodeSotwRequest,
  encodeDeltaResponse,
  encodeSotwResponse,
  isMalformed,
  type DeltaRequest,
  type SotwRequest,
} from '../../src/xds/wire.js';

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

describe('ADS request decoding', () => {
  const encode = (type: string, obj: Record<string, unknown>) => {
    const t = messageType(type);
    return Buffer.from(t.encode(t.fromObject(obj)).finish());
  };

  it('decodes every field of a SotW request and keeps the node as bytes until asked', () => {
    const node = { id: 'envoy-1', cluster: 'edge', user_agent_name: 'envoy', extensions: Array.from({ length: 50 }, (_, i) => ({ name: `ext.${i}` })) };
    const req = decodeSotwRequest(
      encode('envoy.service.discovery.v3.DiscoveryRequest', {
        version_info: '7',
        node,
        resource_names: ['a', 'b'],
        type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
        response_nonce: 'n',
        error_detail: { code: 3, message: 'bad' },
      }),
    ) as SotwRequest;
    expect(isMalformed(req)).toBe(false);
    expect([req.version_info, req.resource_names, req.type_url, req.response_nonce]).toEqual([
      '7',
      ['a', 'b'],
      'type.googleapis.com/envoy.config.cluster.v3.Cluster',
      'n',
    ]);
    expect(req.error_detail).toMatchObject({ code: 3, message: 'bad' });
    expect(decodeNode(req.node!)).toMatchObject({ id: 'envoy-1', cluster: 'edge', user_agent_name: 'envoy' });
  });

  it('reads only the identity of a node: the version too, and unset fields are empty; metadata and extensions are skipped', () => {
    const bytes = encode('envoy.config.core.v3.Node', {
      id: 'envoy-2',
      user_agent_name: 'envoy',
      user_agent_version: '1.40.0',
      metadata: { fields: { team: { string_value: 'edge' } } },
      locality: { zone: 'z1' },
      extensions: [{ name: 'envoy.filters.http.router', category: 'envoy.filters.http' }],
    });
    const node = decodeNode(bytes);
    expect(isMalformed(node)).toBe(false);
    expect({ ...node }).toEqual({ id: 'envoy-2', user_agent_name: 'envoy', user_agent_version: '1.40.0' });
    expect((node as { cluster: string }).cluster).toBe('');
    expect(Object.keys(node)).not.toContain('extensions');
  });

  it('an ACK without node or names has empty defaults; Delta maps and lists decode', () => {
    const ack = decodeSotwRequest(encode('envoy.service.discovery.v3.DiscoveryRequest', { type_url: 'x', response_nonce: '1' })) as SotwRequest;
    expect(ack.resource_names).toEqual([]);
    expect(ack.node?.length ?? 0).toBe(0); // bytes default to empty
    expect(ack.error_detail ?? null).toBeNull();
    const d = decodeDeltaRequest(
      encode('envoy.service.discovery.v3.DeltaDiscoveryRequest', {
        node: { id: 'n' },
        type_url: 't',
        resource_names_subscribe: ['a'],
        resource_names_unsubscribe: ['b'],
        initial_resource_versions: { a: 'v1' },
      }),
    ) as DeltaRequest;
    expect([d.resource_names_subscribe, d.resource_names_unsubscribe, d.initial_resource_versions]).toEqual([['a'], ['b'], { a: 'v1' }]);
    expect(decodeNode(d.node!)).toMatchObject({ id: 'n' });
  });

  it('reports a malformed request and a malformed node', () => {
    expect(isMalformed(decodeSotwRequest(Buffer.from([0x0a, 0xff])))).toBe(true);
    // node = field 2, length 2, bytes that are not a Node (a field-0 tag).
    const req = decodeSotwRequest(Buffer.from([0x12, 0x02, 0x00, 0x00])) as SotwRequest;
    expect(isMalformed(req)).toBe(false);
    expect(isMalformed(decodeNode(req.node!))).toBe(true);
  });
});
