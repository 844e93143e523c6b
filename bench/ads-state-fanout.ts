// Micro-benchmark of the pure ADS state machine (no gRPC): N SotW or Delta streams synced to CDS + EDS, then
// one-endpoint changes; per change every stream is asked for its next response, then ACKs it and is asked again
// (what a push and its ACKs cost healthmesh's own code per stream). `npx tsx bench/ads-state-fanout.ts [N] [changes] [sotw|delta]`
import { createControlPlane } from '../src/controlplane.js';
import { validateConfig } from '../src/config/load.js';
import { AdsState, type Protocol, type ResponseOut } from '../src/xds/ads-state.js';
import { TYPE } from '../src/xds/protos.js';
import type { Snapshot } from '../src/xds/snapshot.js';

const n = Number(process.argv[2] ?? 1000);
const changes = Number(process.argv[3] ?? 2000);
const protocol = (process.argv[4] ?? 'sotw') as Protocol;
const endpoints = Array.from({ length: 10 }, (_, i) => ({ address: '127.0.0.1', port: 20000 + i }));
const cp = createControlPlane(validateConfig({ clusters: [{ name: 'bench', endpoints }] }));
let snap = cp.topology.publishNow()!;
const toggle = (i: number): Snapshot => {
  cp.topology.setEndpoint('bench', { address: '127.0.0.1', port: 20000, health: i % 2 ? 'HEALTHY' : 'DRAINING' });
  return (snap = cp.topology.publishNow() ?? snap);
};
const states = Array.from({ length: n }, (_, i) => new AdsState(protocol, { maxSubscriptions: 10_000 }, `s${i}`));
const drain = (st: AdsState): ResponseOut[] => {
  const out: ResponseOut[] = [];
  const answered = new Set<ResponseOut['typeUrl']>();
  for (let r = st.next(snap, answered); r; r = st.next(snap, answered)) {
    answered.add(r.typeUrl);
    out.push(r);
  }
  return out;
};
const ack = (st: AdsState, r: ResponseOut) =>
  st.onRequest(
    protocol === 'sotw'
      ? { typeUrl: r.typeUrl, nonce: r.nonce, resourceNames: r.typeUrl === TYPE.endpoint ? ['bench'] : [] }
      : { typeUrl: r.typeUrl, nonce: r.nonce },
  );
for (const st of states) {
  st.onRequest(protocol === 'sotw' ? { typeUrl: TYPE.cluster, resourceNames: [] } : { typeUrl: TYPE.cluster });
  for (const r of drain(st)) ack(st, r);
  st.onRequest(protocol === 'sotw' ? { typeUrl: TYPE.endpoint, resourceNames: ['bench'] } : { typeUrl: TYPE.endpoint, subscribe: ['bench'] });
  for (const r of drain(st)) ack(st, r);
}
let sent = 0;
const round = (i: number) => {
  toggle(i);
  const pending: Array<[AdsState, ResponseOut]> = [];
  for (const st of states) for (const r of drain(st)) pending.push([st, r]);
  sent += pending.length;
  for (const [st, r] of pending) {
    ack(st, r);
    drain(st);
  }
};
for (let i = 0; i < Math.min(200, changes); i++) round(i);
sent = 0;
const t0 = performance.now();
for (let i = 0; i < changes; i++) round(i);
const ms = performance.now() - t0;
console.log(
  `${protocol} N=${n}: ${(ms / changes).toFixed(3)} ms per change (${((ms / changes / n) * 1000).toFixed(2)} µs per stream), ${(sent / changes).toFixed(0)} responses per change`,
);
