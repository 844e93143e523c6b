// Found by running Envoy against three replicas (envoy/bootstrap-ads-replicated.yaml, fresh-eyes-18): Envoy opens
// its ADS stream and its LRS stream to the cluster `healthmesh_xds` separately, so after a failover they often land
// on different replicas. The replica holding the LRS stream checks only its OWN ledger for an ADS stream of that
// node id, ignores every report and closes the stream (PERMISSION_DENIED) after lrs.adsGraceMs; Envoy reconnects
// and the LB may pick the wrong replica again. Real-traffic signals are lost although README "Replication" says
// load reports reaching any replica are forwarded to the endpoint's owner.
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { endpointKey } from '../../src/core/model.js';
import { messageType, TYPE } from '../../src/xds/protos.js';
import { AdsTestClient } from '../support/ads-client.js';
import { bearer, TEST_TOKENS } from '../support/auth.js';
import { startHttpBackends, type Backend } from '../support/backends.js';
import { testConfig } from '../support/config.js';
import { replicationSection, testPrefix, useEtcd } from '../support/etcd.js';
import { waitFor } from '../support/wait.js';

const etcd = useEtcd();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const PATH = '/envoy.service.load_stats.v3.LoadReportingService/StreamLoadStats';
const req = () => messageType('envoy.service.load_stats.v3.LoadStatsRequest');
const encode = (obj: Record<string, unknown>): Buffer => Buffer.from(req().encode(req().fromObject(obj)).finish());

describe('replicas: LRS on one replica, ADS on another (as Envoy does after a failover)', () => {
  it('load reports are accepted and reach the owner', async () => {
    const bs: Backend[] = await startHttpBackends(2);
    cleanups.push(() => Promise.all(bs.map((b) => b.close())).then(() => undefined));
    const prefix = testPrefix();
    const apps: Healthmesh[] = [];
    const ports: number[] = [];
    for (let i = 0; i < 2; i++) {
      const app = createHealthmesh(
        testConfig({
          replication: replicationSection(etcd(), prefix, `r${i}`),
          lrs: { reportIntervalMs: 500, adsGraceMs: 1000 },
          clusters: [{ name: 'web', endpoints: bs.map((b) => ({ address: '127.0.0.1', port: b.port })) }],
        }),
      );
      cleanups.push(() => app.stop());
      ports.push((await app.start()).xdsPort);
      apps.push(app);
    }
    await waitFor(() => apps.every((a) => a.replication!.liveIds().length === 2), { timeoutMs: 10_000, what: 'two live replicas' });

    // The proxy's ADS stream is on r0 ...
    const ads = new AdsTestClient(ports[0]!, 'sotw');
    cleanups.push(async () => ads.close());
    ads.send({ node: { id: 'envoy-x', cluster: 'edge' }, type_url: TYPE.cluster });
    ads.ack(await ads.next(TYPE.cluster, 10_000));
    await waitFor(() => apps[0]!.controlPlane.ledger.hasOpenStream('envoy-x'), { timeoutMs: 10_000, what: 'the ADS stream on r0' });

    // ... and its LRS stream on r1, with a proxy token and the same node id.
    const client = new grpc.Client(`127.0.0.1:${ports[1]}`, grpc.credentials.createInsecure());
    const call = client.makeBidiStreamRequest(
      PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bearer(TEST_TOKENS.proxy),
    );
    let status: grpc.StatusObject | undefined;
    call.on('status', (s: grpc.StatusObject) => (status = s));
    call.on('error', () => undefined);
    cleanups.push(async () => {
      call.cancel();
      client.close();
    });
    call.write(encode({ node: { id: 'envoy-x', cluster: 'edge' } }));
    const key = endpointKey('web', '127.0.0.1', bs[0]!.port);
    const owner = apps.find((a) => a.engine.isOwned(key))!;
    const report = () =>
      call.write(
        encode({
          cluster_stats: [
            {
              cluster_name: 'web',
              load_report_interval: { seconds: 1, nanos: 0 },
              upstream_locality_stats: [
                {
                  locality: {},
                  upstream_endpoint_stats: [
                    {
                      address: { socket_address: { address: '127.0.0.1', port_value: bs[0]!.port } },
                      total_successful_requests: 10,
                      total_error_requests: 90,
                      total_issued_requests: 100,
                    },
                  ],
                },
              ],
            },
          ],
        }),
      );
    // Reports every 300 ms for longer than adsGraceMs: the stream must stay open and the owner must count them.
    const timer = setInterval(report, 300);
    cleanups.push(async () => clearInterval(timer));
    await waitFor(() => owner.engine.metrics(key)?.errorRate !== undefined || status !== undefined, {
      timeoutMs: 10_000,
      what: 'the report counted by the owner (or the LRS stream closed)',
    });
    await new Promise((r) => setTimeout(r, 1500)); // past adsGraceMs (1 s)
    expect(status, `LRS stream closed: ${status?.code} ${status?.details}`).toBeUndefined();
    expect(owner.engine.metrics(key)?.errorRate).toBeGreaterThan(0);
  }, 60_000);
});
