// Micro-benchmark of one ADS push and its ACKs through healthmesh's own stream code (AdsService → AdsSession →
// AdsState, the ledger, the response encoder and the request decoder) with grpc-js replaced by an in-memory call:
// what healthmesh adds per stream to what grpc-js costs. `npx tsx bench/ads-session-fanout.ts [N] [changes] [sotw|delta]`
import { EventEmitter } from 'node:events';
import { Metadata } from '@grpc/grpc-js';
import { createControlPlane } from '../src/controlplane.js';
import { validateConfig } from '../src/config/load.js';
import { messageType, TYPE } from '../src/xds/protos.js';
import { adsService } from '../src/xds/wire.js';

const n = Number(process.argv[2] ?? 1000);
const changes = Number(process.argv[3] ?? 1000);
const protocol = process.argv[4] ?? 'sotw';
const delta = protocol === 'delta';
const endpoints = Array.from({ length: 10 }, (_, i) => ({ address: '127.0.0.1', port: 20000 + i }));
const cp = createControlPlane(validateConfig({ clusters: [{ name: 'bench', endpoints }], xds: { debounceMs: 0 } }), { fanOutSliceMs: Infinity });
cp.topology.publishNow();
const svc = (delta ? adsService.DeltaAggregatedResources : adsService.StreamAggregatedResources)!;
const reqType = messageType(delta ? 'envoy.service.discovery.v3.DeltaDiscoveryRequest' : 'envoy.service.discovery.v3.DiscoveryRequest');
const resType = messageType(delta ? 'envoy.service.discovery.v3.DeltaDiscoveryResponse' : 'envoy.service.discovery.v3.DiscoveryResponse');
const nodeOf = (i: number) => ({ id: `adsload-${i}`, cluster: 'bench', user_agent_name: 'envoy', locality: { zone: 'z' } });

class FakeCall extends EventEmitter {
  metadata = new Metadata();
  inbox: Buffer[] = [];
  getPeer = () => 'ipv4:127.0.0.1:1';
  write(msg: never): boolean {
    this.inbox.push((svc.responseSerialize as (m: never) => Buffer)(msg));
    return true;
  }
}
let impl: Record<string, (call: FakeCall) => void> = {};
cp.xds.register({ addService: (_def: unknown, i: typeof impl) => (impl = i) } as never);
const calls = Array.from({ length: n }, () => new FakeCall());
/** Time spent in healthmesh's code (publish, request decoding, ACK handling), not in the fake client. */
let serverMs = 0;
let pushMs = 0;
const timed = (fn: () => void) => {
  const t = performance.now();
  fn();
  serverMs += performance.now() - t;
};
const send = (call: FakeCall, i: number, fields: Record<string, unknown>) => {
  const bytes = Buffer.from(reqType.encode(reqType.fromObject({ node: nodeOf(i), ...fields })).finish());
  timed(() => call.emit('data', (svc.requestDeserialize as (b: Buffer) => unknown)(bytes)));
};
const ackAll = (call: FakeCall, i: number) => {
  const got = call.inbox.splice(0);
  for (const buf of got) {
    const r = resType.decode(buf) as unknown as { type_url?: string; typeUrl?: string; version_info?: string; versionInfo?: string; nonce: string };
    const typeUrl = r.typeUrl ?? r.type_url;
    if (delta) send(call, i, { type_url: typeUrl, response_nonce: r.nonce });
    else
      send(call, i, {
        type_url: typeUrl,
        version_info: r.versionInfo ?? r.version_info,
        response_nonce: r.nonce,
        resource_names: typeUrl === TYPE.endpoint ? ['bench'] : [],
      });
  }
  return got.length;
};
let firstHalfMs = 0;
calls.forEach((call, i) => {
  if (i === n / 2) firstHalfMs = serverMs;
  timed(() => impl[delta ? 'DeltaAggregatedResources' : 'StreamAggregatedResources']!(call));
  send(call, i, { type_url: TYPE.cluster });
  ackAll(call, i);
  send(call, i, delta ? { type_url: TYPE.endpoint, resource_names_subscribe: ['bench'] } : { type_url: TYPE.endpoint, resource_names: ['bench'] });
  ackAll(call, i);
});
const syncMs = serverMs;
let sent = 0;
const round = (k: number) => {
  cp.topology.setEndpoint('bench', { address: '127.0.0.1', port: 20000, health: k % 2 ? 'HEALTHY' : 'DRAINING' });
  const t = performance.now();
  timed(() => cp.topology.publishNow());
  pushMs += performance.now() - t;
  calls.forEach((call, i) => (sent += ackAll(call, i)));
};
for (let k = 0; k < Math.min(200, changes); k++) round(k);
// Best of 5 rounds (the machine's other work only ever adds time).
let best = { ms: Infinity, push: 0, sent: 0 };
for (let r = 0; r < 5; r++) {
  sent = 0;
  serverMs = 0;
  pushMs = 0;
  for (let k = 0; k < changes; k++) round(k);
  if (serverMs < best.ms) best = { ms: serverMs, push: pushMs, sent };
}
const per = (ms: number) => ((ms / changes / n) * 1000).toFixed(2);
console.log(
  `${protocol} N=${n}: ${(best.ms / changes).toFixed(2)} ms per change in healthmesh's code (${per(best.ms)} µs per stream: the push ${per(best.push)} µs, the ACK ${per(best.ms - best.push)} µs), ${(best.sent / changes).toFixed(0)} responses per change; initial sync ${((syncMs / n) * 1000).toFixed(1)} µs per stream (open, CDS, ACK, EDS, ACK; the second half ${(((syncMs - firstHalfMs) / (n / 2)) * 1000).toFixed(1)} µs)`,
);
// For bench/sections/ads-cost.ts: the same figures as one JSON line.
console.log(
  JSON.stringify({
    protocol,
    streams: n,
    changes,
    usPerStreamPerChange: (best.ms / changes / n) * 1000,
    usPushPerStream: (best.push / changes / n) * 1000,
    usAckPerStream: ((best.ms - best.push) / changes / n) * 1000,
    responsesPerChange: best.sent / changes,
    usSyncPerStream: (syncMs / n) * 1000,
    usSyncPerStreamSecondHalf: ((syncMs - firstHalfMs) / (n / 2)) * 1000,
  }),
);
void cp.stop();
