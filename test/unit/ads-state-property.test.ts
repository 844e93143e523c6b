import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AdsState, type Protocol, type ResponseOut } from '../../src/xds/ads-state.js';
import { TYPE } from '../../src/xds/protos.js';
import type { ResourceSpec } from '../../src/xds/resources.js';
import { buildSnapshot, type Snapshot } from '../../src/xds/snapshot.js';

/**
 * Property: whatever the sequence of config changes, rejected (NACKed) resources and client
 * behaviour (applying the valid part of a rejected response, as Envoy and gRPC do for LDS/CDS, or
 * nothing of it), once the config is valid again the client ends up holding exactly the current
 * subscribed set — nothing lost, nothing stale.
 */
const NAMES = ['a', 'b', 'c', 'd'];
const BAD = 13; // a connect timeout the simulated client rejects

const cluster = (name: string, timeoutS: number): ResourceSpec => ({
  name,
  typeUrl: TYPE.cluster,
  message: { name, type: 'EDS', connect_timeout: { seconds: timeoutS } },
  refs: [],
});

class Client {
  readonly holds = new Map<string, { version: string; timeout: number }>();
  /** Named subscription (undefined: wildcard); resources not asked for are ignored, as the protocol says. */
  wants: readonly string[] | undefined;
  constructor(
    readonly protocol: Protocol,
    private readonly partial: boolean,
  ) {}

  /** Applies a response; returns whether it is ACKed. */
  receive(r: ResponseOut): boolean {
    const asked = (n: string): boolean => this.wants === undefined || this.wants.includes(n);
    const decoded = r.resources.filter((e) => asked(e.name)).map((e) => ({ name: e.name, version: e.version, timeout: timeoutOf(e.version) }));
    const bad = decoded.filter((d) => d.timeout === BAD);
    if (bad.length > 0 && !this.partial) return false;
    if (this.protocol === 'sotw') {
      for (const name of [...this.holds.keys()]) if (!decoded.some((d) => d.name === name)) this.holds.delete(name);
    }
    for (const d of decoded) if (d.timeout !== BAD) this.holds.set(d.name, { version: d.version, timeout: d.timeout });
    for (const n of r.removed) this.holds.delete(n);
    return bad.length === 0;
  }
}

/** version → timeout, filled as snapshots are built. */
const timeouts = new Map<string, number>();
const timeoutOf = (version: string): number => timeouts.get(version)!;

let counter = 0;
function publish(prev: Snapshot | undefined, config: ReadonlyMap<string, number>): Snapshot {
  const specs = [...config].map(([n, t]) => cluster(n, t));
  const next = buildSnapshot(prev, specs, String(++counter), 0) ?? prev!;
  for (const [n, t] of config) timeouts.set(next.types[TYPE.cluster].resources.get(n)!.version, t);
  return next;
}

const configArb = fc.dictionary(fc.constantFrom(...NAMES), fc.constantFrom(1, 2, 3, BAD), { maxKeys: 4 }).map((d) => new Map(Object.entries(d)));
const opArb = fc.oneof(
  configArb.map((config) => ({ kind: 'publish' as const, config })),
  fc.constant({ kind: 'deliver' as const }),
  fc.constant({ kind: 'pump' as const }),
  fc.subarray(NAMES).map((names) => ({ kind: 'resubscribe' as const, names })),
);

describe('AdsState converges after NACKs (property)', () => {
  it.each<[Protocol, boolean]>([
    ['sotw', true],
    ['sotw', false],
    ['delta', true],
    ['delta', false],
  ])('%s CDS, client applies the valid part of a rejected response: %s', (protocol, partial) => {
    fc.assert(
      fc.property(fc.boolean(), fc.subarray(NAMES, { minLength: 1 }), fc.array(opArb, { maxLength: 25 }), (wildcard, named, ops) => {
        const state = new AdsState(protocol, { maxSubscriptions: 100 }, 'p');
        const client = new Client(protocol, partial);
        let subscribed = [...named];
        client.wants = wildcard ? undefined : subscribed;
        const queue: ResponseOut[] = [];
        let snapshot = publish(undefined, new Map([['a', 1]]));
        if (protocol === 'sotw') state.onRequest({ typeUrl: TYPE.cluster, resourceNames: wildcard ? [] : named });
        else state.onRequest({ typeUrl: TYPE.cluster, subscribe: wildcard ? [] : named });
        const pump = () => {
          const done = new Set<ResponseOut['typeUrl']>();
          for (let r = state.next(snapshot, done); r; r = state.next(snapshot, done)) {
            queue.push(r);
            done.add(r.typeUrl);
          }
        };
        const deliver = () => {
          for (const r of queue.splice(0)) {
            const ok = client.receive(r);
            // SotW requests always carry the full list of names (an empty one would unsubscribe a named client).
            const names = protocol === 'sotw' ? { resourceNames: wildcard ? [] : subscribed } : {};
            state.onRequest({ typeUrl: TYPE.cluster, nonce: r.nonce, ...names, ...(ok ? {} : { error: { code: 3, message: 'bad' } }) });
            pump();
          }
        };
        pump();
        for (const op of ops) {
          if (op.kind === 'publish') snapshot = publish(snapshot, op.config);
          else if (op.kind === 'deliver') deliver();
          else if (op.kind === 'pump') pump();
          else if (!wildcard) {
            // The client changes what it asks for (gRPC does as routes change) and forgets what it dropped.
            const next = op.names;
            if (protocol === 'sotw') state.onRequest({ typeUrl: TYPE.cluster, resourceNames: next });
            else
              state.onRequest({
                typeUrl: TYPE.cluster,
                subscribe: next.filter((n) => !subscribed.includes(n)),
                unsubscribe: subscribed.filter((n) => !next.includes(n)),
              });
            for (const n of [...client.holds.keys()]) if (!next.includes(n)) client.holds.delete(n);
            subscribed = next;
            client.wants = next;
            pump();
          }
        }
        // Everything valid again (and different from any rejected version or not): the client must converge.
        const final = new Map(NAMES.filter((_, i) => i % 2 === 0 || ops.length % 2 === 0).map((n) => [n, 1 + (ops.length % 3)]));
        snapshot = publish(snapshot, final);
        for (let i = 0; i < 20 && (queue.length > 0 || i === 0); i++) {
          pump();
          deliver();
        }
        expect(queue).toEqual([]);
        const want = [...final].filter(([n]) => wildcard || subscribed.includes(n)).map(([n]) => [n, snapshot.types[TYPE.cluster].resources.get(n)!.version]);
        expect([...client.holds].map(([n, h]) => [n, h.version]).sort()).toEqual(want.sort());
      }),
      {
        numRuns: Number(process.env.HM_PROPERTY_RUNS ?? 300),
        examples: [
          // Found by this property: a NACK of a response that re-sent a change still in flight (c) blamed the other change (d).
          [
            false,
            ['b', 'c'],
            [
              { kind: 'deliver' },
              {
                kind: 'publish',
                config: new Map([
                  ['c', BAD],
                  ['d', 3],
                  ['b', 1],
                ]),
              },
              { kind: 'pump' },
              { kind: 'resubscribe', names: ['c', 'd'] },
              { kind: 'pump' },
              { kind: 'pump' },
              { kind: 'publish', config: new Map() },
              { kind: 'deliver' },
            ],
          ],
          [
            false,
            ['c'],
            [
              { kind: 'publish', config: new Map([['b', 1]]) },
              { kind: 'resubscribe', names: ['b'] },
              { kind: 'pump' },
              { kind: 'publish', config: new Map([['a', BAD]]) },
              { kind: 'resubscribe', names: ['a', 'b'] },
              { kind: 'resubscribe', names: ['b'] },
              { kind: 'resubscribe', names: ['a', 'b'] },
            ],
          ],
        ],
      },
    );
  });
});
