import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/xds/ledger.js';

const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

describe('Ledger: proxies with an unresolved NACK', () => {
  it('tracks NACK, resolving ACK and disconnect, and announces each change of the set', () => {
    let t = 1000;
    const ledger = new Ledger(() => t);
    let changes = 0;
    ledger.onNackedChange(() => changes++);
    const [s1, s2, s3] = ['s1', 's2', 's3'].map((id) => ledger.connect({ streamId: id, nodeId: `node-${id}`, protocol: 'sotw', peer: 'ipv4:127.0.0.1:1' }));
    s1!.ack(CDS, '1', 900);
    expect(ledger.nacked()).toEqual([]);
    expect(changes).toBe(0);

    t = 2000;
    s2!.nack(CDS, { version: '2', message: 'bad cluster', code: 3, resources: ['x'] });
    s2!.nack(EDS, { version: '2', message: 'bad endpoints', code: 3, resources: ['x'] });
    s3!.nack(EDS, { version: '2', message: 'also bad', code: 3, resources: ['x'] });
    expect(changes).toBe(3);
    expect(ledger.nacked()).toEqual([
      {
        nodeId: 'node-s2',
        nacked: [
          { typeUrl: CDS, message: 'bad cluster' },
          { typeUrl: EDS, message: 'bad endpoints' },
        ],
      },
      { nodeId: 'node-s3', nacked: [{ typeUrl: EDS, message: 'also bad' }] },
    ]);

    // An ACK of one type leaves the other NACK unresolved: no change of the set.
    t = 3000;
    s2!.ack(CDS, '3', 2500);
    expect(changes).toBe(3);
    expect(ledger.nacked()[0]).toEqual({ nodeId: 'node-s2', nacked: [{ typeUrl: EDS, message: 'bad endpoints' }] });
    s2!.ack(EDS, '3', 2500);
    expect(changes).toBe(4);
    expect(ledger.nacked().map((p) => p.nodeId)).toEqual(['node-s3']);

    // Leaving resolves it too; an ACK from a proxy that never NACKed changes nothing.
    s3!.disconnect();
    s1!.ack(EDS, '3', 2500);
    expect(changes).toBe(5);
    expect(ledger.nacked()).toEqual([]);
  });
});

describe('Ledger: publish-to-ACK', () => {
  it('counts from the publish, or from the connection of a proxy that connected after it', () => {
    let t = 10_000;
    const ledger = new Ledger(() => t);
    const early = ledger.connect({ streamId: 'early', nodeId: 'a', protocol: 'sotw', peer: 'p' });
    t = 15_000;
    const late = ledger.connect({ streamId: 'late', nodeId: 'b', protocol: 'sotw', peer: 'p' });
    t = 15_040;
    early.ack(EDS, '7', 12_000); // published at 12 s, while it was connected
    late.ack(EDS, '7', 12_000); // published before it connected
    expect(early.record.types[EDS]?.publishToAckMs).toBe(3040);
    expect(late.record.types[EDS]?.publishToAckMs).toBe(40);
  });
});
