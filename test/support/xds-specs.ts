import { TYPE } from '../../src/xds/protos.js';
import type { ResourceSpec } from '../../src/xds/resources.js';

/** Minimal resource specs for ADS state-machine tests: a cluster (its timeout makes a new version) and a route over clusters. */
export const clusterSpec = (name: string, timeoutS = 1): ResourceSpec => ({
  name,
  typeUrl: TYPE.cluster,
  message: { name, type: 'EDS', connect_timeout: { seconds: timeoutS } },
  refs: [],
});

export const routeSpec = (name: string, clusters: string[]): ResourceSpec => ({
  name,
  typeUrl: TYPE.route,
  message: { name, virtual_hosts: [{ name: 'vh', domains: ['*'], routes: clusters.map((c) => ({ match: { prefix: `/${c}` }, route: { cluster: c } })) }] },
  refs: clusters,
});
