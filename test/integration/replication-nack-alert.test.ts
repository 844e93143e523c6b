// Found by running Envoy against replicas (fresh-eyes-18, fixed: the replica holding the stream posts it itself): only the leader posts alerts, but the `nack` alert is
// evaluated from each replica's own ADS ledger. When the NACKing proxy's stream is on a replica that does not lead,
// the alert fires there (its /alerts shows it, critical) and is never posted to the webhook.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealthmesh, type Healthmesh } from '../../src/app.js';
import { TYPE } from '../../src/xds/protos.js';
import { AdsTestClient } from '../support/ads-client.js';
import { testConfig } from '../support/config.js';
import { replicationSection, testPrefix, useEtcd } from '../support/etcd.js';
import { waitFor } from '../support/wait.js';

const etcd = useEtcd();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe('replicas: a NACK on a replica that does not lead', () => {
  it('reaches the webhook', async () => {
    const posts: Array<{ event: string; replica?: string; alert: { rule: string } }> = [];
    const srv = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push(JSON.parse(body) as { event: string; replica?: string; alert: { rule: string } });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook`;

    const prefix = testPrefix();
    const apps: Healthmesh[] = [];
    const ports: number[] = [];
    for (let i = 0; i < 2; i++) {
      const app = createHealthmesh(
        testConfig({
          replication: replicationSection(etcd(), prefix, `r${i}`),
          alerts: { cooldownMs: 0, webhook: { url, timeoutMs: 10_000, retries: 1 } },
          clusters: [{ name: 'web', endpoints: [{ address: '127.0.0.1', port: 9001 }] }],
        }),
      );
      cleanups.push(() => app.stop());
      ports.push((await app.start()).xdsPort);
      apps.push(app);
    }
    await waitFor(() => apps.filter((a) => a.replication!.isLeader()).length === 1, { timeoutMs: 10_000, what: 'one leader' });
    const follower = apps.findIndex((a) => !a.replication!.isLeader());

    const ads = new AdsTestClient(ports[follower]!, 'sotw');
    cleanups.push(async () => ads.close());
    ads.send({ node: { id: 'envoy-x', cluster: 'edge' }, type_url: TYPE.cluster });
    ads.nack(await ads.next(TYPE.cluster, 10_000), 'cluster web: rejected for the test');
    // It fires on the replica holding the stream ...
    await waitFor(() => apps[follower]!.alerts.list({ state: 'firing' }).some((a) => a.rule === 'nack'), {
      timeoutMs: 10_000,
      what: 'nack firing on the follower',
    });
    // ... and the receiver hears of it, from that replica (the leader cannot see another replica's streams).
    await waitFor(() => posts.some((p) => p.event === 'fired' && p.alert.rule === 'nack'), { timeoutMs: 10_000, what: 'the nack alert posted' });
    await Promise.all(apps.map((a) => a.alerts.idle()));
    const fired = posts.filter((p) => p.event === 'fired' && p.alert.rule === 'nack');
    expect(fired).toHaveLength(1);
    expect(fired[0]!.replica).toBe(`r${follower}`);
  }, 60_000);
});
