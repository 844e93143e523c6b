import { describe, expect, it } from 'vitest';
import { extractTraffic } from '../../src/signals/load-report.js';
import type { LoadStatsRequest, UpstreamEndpointStats } from '../../src/signals/lrs-proto.js';
import { decodeLoadStatsRequest, durationToMs, msToDuration } from '../../src/signals/lrs-proto.js';
import { messageType } from '../../src/xds/protos.js';

const ep = (port: number, ok: number, err: number, address = '127.0.0.1'): UpstreamEndpointStats => ({
  address: { socket_address: { address, port_value: port } },
  total_successful_requests: ok,
  total_error_requests: err,
  total_issued_requests: ok + err,
});

const opts = { at: 1_000, fallbackIntervalMs: 2000, maxEndpoints: 100 };

describe('extractTraffic', () => {
  it('one sample per endpoint with requests, keyed cluster/address:port, interval from the report', () => {
    const req: LoadStatsRequest = {
      node: { id: 'envoy-1' },
      cluster_stats: [
        {
          cluster_name: 'demo',
          load_report_interval: { seconds: 0, nanos: 512_000_000 },
          upstream_locality_stats: [{ upstream_endpoint_stats: [ep(9101, 10, 0), ep(9102, 0, 7), ep(9103, 0, 0)] }],
        },
        { cluster_name: 'idle', upstream_locality_stats: [{ upstream_endpoint_stats: [ep(9200, 0, 0)] }] },
        { cluster_name: 'other', upstream_locality_stats: [{ upstream_endpoint_stats: [ep(9300, 1, 1)] }] },
      ],
    };
    const out = extractTraffic(req, opts);
    expect(out.samples).toEqual([
      { key: 'demo/127.0.0.1:9101', sample: { at: 1000, intervalMs: 512, successes: 10, errors: 0 } },
      { key: 'demo/127.0.0.1:9102', sample: { at: 1000, intervalMs: 512, successes: 0, errors: 7 } },
      { key: 'other/127.0.0.1:9300', sample: { at: 1000, intervalMs: 2000, successes: 1, errors: 1 } },
    ]);
    expect(out.skipped).toBe(0);
    expect(out.truncated).toBe(false);
  });

  it('sums an endpoint reported under two localities', () => {
    const req: LoadStatsRequest = {
      cluster_stats: [
        { cluster_name: 'demo', upstream_locality_stats: [{ upstream_endpoint_stats: [ep(1, 2, 1)] }, { upstream_endpoint_stats: [ep(1, 3, 0)] }] },
      ],
    };
    expect(extractTraffic(req, opts).samples).toEqual([{ key: 'demo/127.0.0.1:1', sample: { at: 1000, intervalMs: 2000, successes: 5, errors: 1 } }]);
  });

  it('skips unreadable entries and keeps the rest', () => {
    const req: LoadStatsRequest = {
      cluster_stats: [
        { cluster_name: '', upstream_locality_stats: [{ upstream_endpoint_stats: [ep(1, 1, 0)] }] },
        {
          cluster_name: 'demo',
          upstream_locality_stats: [
            {
              upstream_endpoint_stats: [
                { total_successful_requests: 4 },
                { address: { socket_address: { address: '127.0.0.1', port_value: 0 } }, total_successful_requests: 4 },
                { ...ep(2, 1, 0), total_error_requests: -1 },
                ep(3, 4, 0),
              ],
            },
          ],
        },
        { cluster_name: 'no-localities' },
      ],
    };
    const out = extractTraffic(req, opts);
    expect(out.samples.map((s) => s.key)).toEqual(['demo/127.0.0.1:3']);
    expect(out.skipped).toBe(4);
  });

  it('examines at most maxEndpoints entries', () => {
    const req: LoadStatsRequest = {
      cluster_stats: [{ cluster_name: 'big', upstream_locality_stats: [{ upstream_endpoint_stats: Array.from({ length: 50 }, (_, i) => ep(i + 1, 1, 0)) }] }],
    };
    const out = extractTraffic(req, { ...opts, maxEndpoints: 10 });
    expect(out.samples).toHaveLength(10);
    expect(out.truncated).toBe(true);
  });

  it('an empty report yields nothing', () => {
    expect(extractTraffic({}, opts)).toEqual({ samples: [], skipped: 0, truncated: false });
  });
});

describe('durations', () => {
  it.each([[500], [2000], [1234], [0]])('%s ms round-trips', (ms) => {
    expect(durationToMs(msToDuration(ms))).toBe(ms);
  });
  it('reads string seconds (int64) and rejects nonsense', () => {
    expect(durationToMs({ seconds: '3', nanos: 5_000_000 })).toBe(3005);
    expect(durationToMs({ seconds: 'x' })).toBeUndefined();
    expect(durationToMs(null)).toBeUndefined();
  });
});

describe('decodeLoadStatsRequest', () => {
  const Req = () => messageType('envoy.service.load_stats.v3.LoadStatsRequest');
  const encode = (obj: Record<string, unknown>) => Req().encode(Req().fromObject(obj)).finish();
  const bigNode = {
    id: 'envoy-7',
    cluster: 'edge',
    extensions: Array.from({ length: 300 }, (_, i) => ({ name: `envoy.filters.http.f${i}`, category: 'envoy.filters.http', type_urls: [`t${i}`] })),
    user_agent_name: 'envoy',
  };

  it('reads node.id and cluster_stats, skipping the rest of the Node', () => {
    const bytes = encode({
      node: bigNode,
      cluster_stats: [{ cluster_name: 'demo', load_report_interval: { seconds: 1 }, upstream_locality_stats: [{ upstream_endpoint_stats: [ep(9101, 3, 1)] }] }],
    });
    const out = decodeLoadStatsRequest(bytes);
    expect(out).toEqual({
      node: { id: 'envoy-7' },
      cluster_stats: [
        {
          cluster_name: 'demo',
          load_report_interval: { seconds: 1 },
          dropped_requests: [],
          upstream_locality_stats: [
            {
              load_metric_stats: [],
              upstream_endpoint_stats: [{ ...ep(9101, 3, 1), load_metric_stats: [] }],
            },
          ],
        },
      ],
    });
  });

  it('a request without node or stats decodes to an empty report', () => {
    expect(decodeLoadStatsRequest(new Uint8Array())).toEqual({ cluster_stats: [] });
    expect(decodeLoadStatsRequest(encode({ node: { cluster: 'x' } }))).toEqual({ node: { id: undefined }, cluster_stats: [] });
  });

  it.each<[string, Uint8Array]>([
    ['a truncated message', encode({ node: bigNode }).subarray(0, 200)],
    ['a truncated cluster_stats', Uint8Array.from([0x12, 0x05, 0x0a, 0x10, 0x61])],
    ['an unknown wire type', Uint8Array.from([0x7f, 0x01])],
    ['a truncated varint', Uint8Array.from([0xff, 0xff])],
  ])('%s is malformed, not thrown', (_name, bytes) => {
    const out = decodeLoadStatsRequest(bytes);
    expect(out).toHaveProperty('malformed');
  });
});
