import { describe, expect, it } from 'vitest';
import { AdsState, type Protocol, type RequestIn, type ResponseOut } from '../../src/xds/ads-state.js';
import { TYPE, type XdsTypeUrl } from '../../src/xds/protos.js';
import type { ResourceSpec } from '../../src/xds/resources.js';
import { buildSnapshot, type Snapshot } from '../../src/xds/snapshot.js';
import { clusterSpec, routeSpec } from '../support/xds-specs.js';

/**
 * The ADS state machine driven by tables, without a network (in the style of go-control-plane's
 * linear_test.go): each case is a protocol and a list of steps — publish a snapshot, send a request,
 * expect the responses the stream gets now (then ACK or NACK them) — for the protocol's edge cases.
 */
const T = { cds: TYPE.cluster, eds: TYPE.endpoint, lds: TYPE.listener, rds: TYPE.route } as const;
type Short = keyof typeof T;

const cluster = clusterSpec;
const route = routeSpec;

type Step =
  | { publish: ResourceSpec[] }
  /** `initialVersions` values 'current' stand for the version of that resource in the current snapshot. */
  | { request: Short; names?: string[]; subscribe?: string[]; unsubscribe?: string[]; initialVersions?: Record<string, string> }
  /** Drain the stream: exactly these responses (type, names sent, names removed), in order; then answer them (ACK unless `nack`). */
  | { expect: Array<[Short, string[], string[]?]>; nack?: Short[] };

interface Case {
  name: string;
  protocol: Protocol;
  steps: Step[];
}

const a1 = cluster('a');
const b1 = cluster('b');
const c1 = cluster('c');

const CASES: Case[] = [
  {
    name: 'SotW wildcard: an empty first request subscribes to every cluster',
    protocol: 'sotw',
    steps: [
      { publish: [a1, b1] },
      { request: 'cds', names: [] },
      { expect: [['cds', ['a', 'b']]] },
      { publish: [a1, b1, c1] },
      { expect: [['cds', ['a', 'b', 'c']]] },
    ],
  },
  {
    name: "SotW explicit '*' is wildcard too, with or without other names",
    protocol: 'sotw',
    steps: [
      { publish: [a1, b1] },
      { request: 'cds', names: ['*', 'a'] },
      { expect: [['cds', ['a', 'b']]] },
      { publish: [a1, b1, c1] },
      { expect: [['cds', ['a', 'b', 'c']]] },
    ],
  },
  {
    name: 'SotW wildcard → named: the next full-state response carries only the named cluster',
    protocol: 'sotw',
    steps: [
      { publish: [a1, b1] },
      { request: 'cds', names: [] },
      { expect: [['cds', ['a', 'b']]] },
      { request: 'cds', names: ['a'] },
      { expect: [] },
      { publish: [cluster('a', 2), b1] },
      { expect: [['cds', ['a']]] },
    ],
  },
  {
    name: 'SotW named → wildcard with an explicit *',
    protocol: 'sotw',
    steps: [
      { publish: [a1, b1] },
      { request: 'cds', names: ['a'] },
      { expect: [['cds', ['a']]] },
      { request: 'cds', names: ['*'] },
      { expect: [['cds', ['a', 'b']]] },
    ],
  },
  {
    name: 'Delta wildcard: an empty first subscription is wildcard; new and removed clusters are announced',
    protocol: 'delta',
    steps: [{ publish: [a1, b1] }, { request: 'cds' }, { expect: [['cds', ['a', 'b']]] }, { publish: [a1, c1] }, { expect: [['cds', ['c'], ['b']]] }],
  },
  {
    name: "Delta leaving wildcard (unsubscribe '*', subscribe a): changes to b are no longer sent",
    protocol: 'delta',
    steps: [
      { publish: [a1, b1] },
      { request: 'cds', subscribe: ['*'] },
      { expect: [['cds', ['a', 'b']]] },
      { request: 'cds', unsubscribe: ['*'], subscribe: ['a'] },
      { expect: [] },
      { publish: [a1, cluster('b', 2)] },
      { expect: [] },
      { publish: [cluster('a', 2), cluster('b', 2)] },
      { expect: [['cds', ['a']]] },
    ],
  },
  {
    name: 'Delta unsubscribe: an unsubscribed EDS resource is not sent again; subscribing again sends it',
    protocol: 'delta',
    steps: [
      { publish: [a1, b1] },
      { request: 'cds', subscribe: ['a', 'b'] },
      { expect: [['cds', ['a', 'b']]] },
      { request: 'cds', unsubscribe: ['b'] },
      { expect: [] },
      { publish: [a1, cluster('b', 2)] },
      { expect: [] },
      { request: 'cds', subscribe: ['b'] },
      { expect: [['cds', ['b']]] },
    ],
  },
  {
    name: 'Delta initial_resource_versions: a resource the client already holds at the current version is not sent',
    protocol: 'delta',
    steps: [{ publish: [a1, b1] }, { request: 'cds', subscribe: ['a', 'b'], initialVersions: { a: 'current' } }, { expect: [['cds', ['b']]] }],
  },
  {
    name: 'Delta initial_resource_versions: an older version is replaced, a resource that is gone is announced removed',
    protocol: 'delta',
    steps: [{ publish: [a1] }, { request: 'cds', subscribe: ['*'], initialVersions: { a: 'stale', z: 'old' } }, { expect: [['cds', ['a'], ['z']]] }],
  },
  {
    name: 'Delta reconnect holding everything: one empty response (the subscription is answered), nothing re-sent',
    protocol: 'delta',
    steps: [
      { publish: [a1, b1] },
      { request: 'cds', subscribe: ['*'], initialVersions: { a: 'current', b: 'current' } },
      { expect: [['cds', []]] },
      { publish: [a1, b1, c1] },
      { expect: [['cds', ['c']]] },
    ],
  },
  {
    name: 'SotW reconnect: the first request of a new stream gets the full state, whatever version it had',
    protocol: 'sotw',
    steps: [{ publish: [a1, b1] }, { request: 'cds', names: [] }, { expect: [['cds', ['a', 'b']]] }],
  },
  {
    name: 'NACK then fix (SotW): the rejected version is not re-sent; a new version is',
    protocol: 'sotw',
    steps: [
      { publish: [a1] },
      { request: 'cds', names: ['a'] },
      { expect: [['cds', ['a']]] },
      { publish: [cluster('a', 99)] },
      { expect: [['cds', ['a']]], nack: ['cds'] },
      { expect: [] },
      { publish: [cluster('a', 3)] },
      { expect: [['cds', ['a']]] },
      { expect: [] },
    ],
  },
  {
    name: 'NACK then fix (Delta): same, one rejected resource is remembered while another changes',
    protocol: 'delta',
    steps: [
      { publish: [a1, b1] },
      { request: 'cds' },
      { expect: [['cds', ['a', 'b']]] },
      { publish: [cluster('a', 99), b1] },
      { expect: [['cds', ['a']]], nack: ['cds'] },
      { publish: [cluster('a', 99), cluster('b', 2)] },
      { expect: [['cds', ['b']]] },
      { publish: [cluster('a', 3), cluster('b', 2)] },
      { expect: [['cds', ['a']]] },
    ],
  },
  {
    name: 'NACK during removal (SotW): while the route update that drops b is rejected, cluster b stays',
    protocol: 'sotw',
    steps: [
      { publish: [a1, b1, route('r', ['a', 'b'])] },
      { request: 'cds', names: [] },
      { request: 'rds', names: ['r'] },
      {
        expect: [
          ['cds', ['a', 'b']],
          ['rds', ['r']],
        ],
      },
      { publish: [a1, route('r', ['a'])] },
      { expect: [['rds', ['r']]], nack: ['rds'] },
      { expect: [] },
      { publish: [a1, route('r', ['a', 'a'])] },
      { expect: [['rds', ['r']]] },
      { expect: [['cds', ['a']]] },
    ],
  },
];

function run(c: Case): void {
  const state = new AdsState(c.protocol, { maxSubscriptions: 100 }, 't');
  let snapshot: Snapshot | undefined;
  let version = 0;
  // A SotW ACK repeats the names of the type's last request, as real clients do.
  const sotwNames = new Map<XdsTypeUrl, string[]>();
  for (const [i, step] of c.steps.entries()) {
    const where = `${c.name}, step ${i + 1}`;
    if ('publish' in step) {
      snapshot = buildSnapshot(snapshot, step.publish, String(++version), 0) ?? snapshot;
    } else if ('request' in step) {
      const typeUrl: XdsTypeUrl = T[step.request];
      const current = (name: string) => snapshot!.types[typeUrl].resources.get(name)?.version ?? 'none';
      const initialVersions =
        step.initialVersions && Object.fromEntries(Object.entries(step.initialVersions).map(([n, v]) => [n, v === 'current' ? current(n) : v]));
      const req: RequestIn =
        c.protocol === 'sotw'
          ? { typeUrl, resourceNames: step.names ?? [] }
          : { typeUrl, subscribe: step.subscribe, unsubscribe: step.unsubscribe, initialVersions };
      if (c.protocol === 'sotw') sotwNames.set(typeUrl, step.names ?? []);
      state.onRequest(req);
    } else {
      const out: ResponseOut[] = [];
      const answered = new Set<XdsTypeUrl>();
      for (let r = state.next(snapshot!, answered); r; r = state.next(snapshot!, answered)) {
        out.push(r);
        answered.add(r.typeUrl);
      }
      const got = out.map((r) => {
        const short = (Object.keys(T) as Short[]).find((k) => T[k] === r.typeUrl)!;
        const row: [Short, string[], string[]?] = [short, r.resources.map((e) => e.name).sort()];
        if (r.removed.length) row.push([...r.removed].sort());
        return row;
      });
      expect(got, where).toEqual(step.expect);
      for (const r of out) {
        const short = (Object.keys(T) as Short[]).find((k) => T[k] === r.typeUrl)!;
        const nack = step.nack?.includes(short);
        const names = c.protocol === 'sotw' ? { resourceNames: sotwNames.get(r.typeUrl) ?? [] } : {};
        state.onRequest({ typeUrl: r.typeUrl, nonce: r.nonce, ...names, ...(nack ? { error: { code: 3, message: 'rejected' } } : {}) });
      }
    }
  }
}

describe('AdsState, table-driven', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => run(c));
});
