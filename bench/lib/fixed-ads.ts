// The fixed answers of the floor experiments (bare-grpc-ads.ts, bare-http2-ads.ts): the benchmark's cluster of 10
// endpoints, pre-encoded by healthmesh, with the first endpoint healthy or draining, and the toggle between the two.
import { createControlPlane } from '../../src/controlplane.js';
import { validateConfig } from '../../src/config/load.js';
import { TYPE } from '../../src/xds/protos.js';

function resources(health?: 'DRAINING') {
  const endpoints = Array.from({ length: 10 }, (_, i) => ({ address: '127.0.0.1', port: 20000 + i, ...(i === 0 && health ? { health } : {}) }));
  const snap = createControlPlane(validateConfig({ clusters: [{ name: 'bench', endpoints }] })).topology.publishNow()!;
  const of = (t: string) => [...snap.types[t as keyof typeof snap.types].resources.values()].map((e) => e.any);
  return { cds: of(TYPE.cluster), eds: of(TYPE.endpoint) };
}

const healthy = resources();
const draining = resources('DRAINING');

/** What the floor servers answer: the CDS, the current EDS and its version; `toggle` flips the first endpoint's health. */
export const fixedAds = {
  cds: healthy.cds,
  eds: healthy.eds,
  version: 1,
  toggle(url: string | undefined): void {
    this.eds = url?.endsWith('/undrain') ? healthy.eds : draining.eds;
    this.version++;
  },
};
