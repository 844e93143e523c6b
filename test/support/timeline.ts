/**
 * A recorder of what happened, in the order it happened: probe outcomes, the engine's decisions, EDS
 * versions published to the snapshot cache, proxies' ACKs and NACKs, and marks the test adds (traffic
 * shares measured through Envoy). Tests assert the ORDER of these events (`expectOrder`) with one
 * generous outer deadline (`waitForOrder`) instead of bounding each step in wall-clock time, and
 * check for the absence of an event up to a positive marker (`before`) instead of a quiet window.
 */
import type { Healthmesh } from '../../src/app.js';
import type { HealthEngine } from '../../src/health/engine.js';
import { decodeAnyBytes, TYPE } from '../../src/xds/protos.js';
import type { SnapshotCache } from '../../src/xds/cache.js';
import type { Snapshot } from '../../src/xds/snapshot.js';
import type { Ledger } from '../../src/xds/ledger.js';
import { waitFor } from './wait.js';

/** `key` is an endpoint key (`cluster/address:port`) for probe, decision and eds entries. */
export type TimelineEntry =
  | { kind: 'probe'; seq: number; t: number; key: string; ok: boolean; latencyMs: number }
  | { kind: 'decision'; seq: number; t: number; key: string; status: string; circuit: string; health: string; weight: number }
  /** An endpoint's published health or weight changed (or it appeared) in EDS `version` of `cluster`. */
  | { kind: 'eds'; seq: number; t: number; key: string; cluster: string; version: string; health: string; weight: number }
  /** An endpoint left the EDS of `cluster` at `version`. */
  | { kind: 'eds-removed'; seq: number; t: number; key: string; cluster: string; version: string }
  | { kind: 'ack'; seq: number; t: number; node: string; typeUrl: string; version: string }
  | { kind: 'nack'; seq: number; t: number; node: string; typeUrl: string; version: string; message: string }
  /** Added by the test: e.g. a traffic share measured through Envoy (`value`) for `key`. */
  | { kind: 'mark'; seq: number; t: number; key: string; label: string; value?: number | undefined };

export type TimelineKind = TimelineEntry['kind'];
type Of<K extends TimelineKind> = Extract<TimelineEntry, { kind: K }>;
type Unstamped = TimelineEntry extends infer E ? (E extends TimelineEntry ? Omit<E, 'seq' | 't'> : never) : never;

/** One step of an expected sequence: an entry of `kind` for which `match` (if given) holds. */
export interface Step<K extends TimelineKind = TimelineKind> {
  kind: K;
  /** Defaults to the sequence's key for keyed kinds. */
  key?: string;
  match?: (e: Of<K>) => boolean;
  /** For `ack`: an ACK of the version of the last `eds` step matched so far, or of any EDS version published after it. */
  ofLastEds?: boolean;
  what?: string;
}

export const step = <K extends TimelineKind>(kind: K, opts: Omit<Step<K>, 'kind'> = {}): Step<K> => ({ kind, ...opts });

interface Sources {
  app?: Healthmesh;
  engine?: HealthEngine;
  cache?: SnapshotCache;
  ledger?: Ledger;
}

interface LbEndpoint {
  endpoint?: { address?: { socket_address?: { address?: string; port_value?: number } } };
  health_status?: string;
  load_balancing_weight?: { value?: number };
}

/** Endpoint key → published {health, weight} in a cluster's EDS entry. */
function publishedEndpoints(cluster: string, any: Uint8Array): Map<string, { health: string; weight: number }> {
  const msg = decodeAnyBytes<{ endpoints?: Array<{ lb_endpoints?: LbEndpoint[] }> }>(any);
  const out = new Map<string, { health: string; weight: number }>();
  for (const group of msg.endpoints ?? []) {
    for (const lb of group.lb_endpoints ?? []) {
      const sa = lb.endpoint?.address?.socket_address;
      out.set(`${cluster}/${sa?.address ?? ''}:${sa?.port_value ?? 0}`, {
        health: lb.health_status ?? 'UNKNOWN',
        weight: lb.load_balancing_weight?.value ?? 1,
      });
    }
  }
  return out;
}

/** A cluster's EDS as published at one version. */
export interface PublishedEds {
  seq: number;
  version: string;
  cluster: string;
  endpoints: ReadonlyMap<string, { health: string; weight: number }>;
}

export class Timeline {
  readonly entries: TimelineEntry[] = [];
  /** Every cluster's EDS each time it changed, in publication order (after `seq` entries were recorded). */
  readonly published: PublishedEds[] = [];
  /** EDS type versions in publication order (an ACK of a later one covers an earlier one). */
  private readonly edsVersions: string[] = [];
  private readonly unsubscribe: Array<() => void> = [];
  /**
   * Decisions made in the current synchronous run, by endpoint. The app feeds a probe to the engine before
   * its probe listeners, so a decision a probe causes is emitted before the probe is seen here: the probe is
   * recorded before those decisions (cause before effect). This assumes, as in the app, that a decision made on
   * the engine's timer and a probe result never share one synchronous run (they are separate tasks).
   */
  private syncDecisions: Map<string, TimelineEntry> | undefined;
  private seq = 0;

  constructor(src: Sources) {
    const engine = src.engine ?? src.app?.engine;
    const cache = src.cache ?? src.app?.controlPlane.cache;
    const ledger = src.ledger ?? src.app?.controlPlane.ledger;
    if (src.app) this.unsubscribe.push(src.app.onProbe((id, o) => this.onProbe(id, o.ok, o.latencyMs)));
    if (engine) {
      this.unsubscribe.push(
        engine.onEvent((e) => {
          if (e.kind !== 'endpoint') return;
          const d = e.endpoint.decision;
          const entry = this.push({ kind: 'decision', key: e.endpoint.key, status: d.status, circuit: d.circuit, health: d.health, weight: d.weight });
          this.noteDecision(e.endpoint.key, entry);
        }),
      );
    }
    if (cache) {
      const current = cache.current();
      if (current) this.edsVersions.push(current.types[TYPE.endpoint].version);
      this.unsubscribe.push(cache.subscribe((next, prev) => this.onSnapshot(next, prev)));
    }
    if (ledger) {
      this.unsubscribe.push(
        ledger.onEvent((e) => {
          if (e.kind === 'ack') this.push({ kind: 'ack', node: e.proxy.nodeId, typeUrl: e.typeUrl, version: e.version });
          else this.push({ kind: 'nack', node: e.proxy.nodeId, typeUrl: e.typeUrl, version: e.nack.version, message: e.nack.message });
        }),
      );
    }
  }

  /** Adds a test's own entry (e.g. `mark(key, 'share', 0.01)` after measuring traffic through Envoy). */
  mark(key: string, label: string, value?: number): Of<'mark'> {
    return this.push({ kind: 'mark', key, label, value }) as Of<'mark'>;
  }

  /** Entries of `kind` (and for `key`, when given). */
  of<K extends TimelineKind>(kind: K, key?: string): Array<Of<K>> {
    return this.entries.filter((e): e is Of<K> => e.kind === kind && (key === undefined || !('key' in e) || e.key === key));
  }

  /** Entries recorded after `from` (exclusive) and before `to` (exclusive; default: now). */
  between(from: TimelineEntry | undefined, to?: TimelineEntry): TimelineEntry[] {
    return this.entries.filter((e) => e.seq > (from?.seq ?? 0) && (to === undefined || e.seq < to.seq));
  }

  /**
   * Matches `steps` in order against the recorded entries (each step the first match after the previous one)
   * and returns the matched entries, or undefined if the sequence is not (yet) complete.
   */
  findOrder(key: string | undefined, steps: Step[], after?: TimelineEntry): TimelineEntry[] | undefined {
    const found: TimelineEntry[] = [];
    let from = after ? after.seq : 0;
    let lastEdsVersion: string | undefined;
    for (const s of steps) {
      const k = s.key ?? key;
      const hit = this.entries.find((e) => {
        if (e.seq <= from || e.kind !== s.kind) return false;
        if ('key' in e && k !== undefined && e.key !== k) return false;
        if (s.kind === 'ack' && (s.ofLastEds ?? true)) {
          const a = e as Of<'ack'>;
          if (a.typeUrl !== TYPE.endpoint) return false;
          if (lastEdsVersion !== undefined && !this.coversEds(a.version, lastEdsVersion)) return false;
        }
        return !s.match || (s.match as (x: TimelineEntry) => boolean)(e);
      });
      if (!hit) return undefined;
      if (hit.kind === 'eds') lastEdsVersion = hit.version;
      found.push(hit);
      from = hit.seq;
    }
    return found;
  }

  /** Asserts the sequence is present now; on failure the error lists the steps matched and the key's timeline. */
  expectOrder(key: string | undefined, steps: Step[], after?: TimelineEntry): TimelineEntry[] {
    const found = this.findOrder(key, steps, after);
    if (found) return found;
    throw new Error(this.explain(key, steps, after));
  }

  /** Waits (one outer deadline for the whole sequence) until `steps` happened in order, and returns the matched entries. */
  async waitForOrder(key: string | undefined, steps: Step[], opts: { timeoutMs: number; after?: TimelineEntry; what?: string }): Promise<TimelineEntry[]> {
    try {
      return await waitFor(() => this.findOrder(key, steps, opts.after), { timeoutMs: opts.timeoutMs, intervalMs: 20, what: opts.what ?? 'the sequence' });
    } catch (err) {
      throw new Error(`${(err as Error).message.split('; last:')[0]}\n${this.explain(key, steps, opts.after)}`, { cause: err });
    }
  }

  /** Waits for the first entry after `after` for which `match` holds (a positive marker). */
  async waitForEntry(match: (e: TimelineEntry) => boolean, opts: { timeoutMs: number; after?: TimelineEntry; what: string }): Promise<TimelineEntry> {
    return waitFor(() => this.entries.find((e) => e.seq > (opts.after?.seq ?? 0) && match(e)), { timeoutMs: opts.timeoutMs, intervalMs: 20, what: opts.what });
  }

  /** A readable dump of the entries for `key` (and every ACK/NACK/mark), for failure messages and logs. */
  describe(key?: string, from?: TimelineEntry): string {
    const t0 = this.entries[0]?.t ?? 0;
    return this.entries
      .filter((e) => e.seq > (from?.seq ?? 0) && (key === undefined || !('key' in e) || e.key === key))
      .map((e) => {
        const { kind, seq, t, ...rest } = e;
        return `#${seq} +${t - t0}ms ${kind} ${JSON.stringify(rest)}`;
      })
      .slice(-80)
      .join('\n');
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** Whether an ACK of EDS `acked` means the proxy holds EDS `published` or later. */
  private coversEds(acked: string, published: string): boolean {
    const a = this.edsVersions.lastIndexOf(acked);
    const p = this.edsVersions.indexOf(published);
    return a >= 0 && p >= 0 && a >= p;
  }

  private explain(key: string | undefined, steps: Step[], after?: TimelineEntry): string {
    let matched = 0;
    for (let i = 1; i <= steps.length; i++) if (this.findOrder(key, steps.slice(0, i), after)) matched = i;
    const names = steps.map((s, i) => `${i < matched ? '✓' : '✗'} ${s.what ?? s.kind}`).join(' → ');
    return `expected in order: ${names}\ntimeline${key ? ` of ${key}` : ''}:\n${this.describe(key, after)}`;
  }

  private onSnapshot(next: Snapshot, prev: Snapshot | undefined): void {
    const eds = next.types[TYPE.endpoint];
    if (this.edsVersions.at(-1) !== eds.version) this.edsVersions.push(eds.version);
    const before = prev?.types[TYPE.endpoint].resources;
    for (const [cluster, entry] of eds.resources) {
      const old = before?.get(cluster);
      if (old === entry) continue;
      const was = old ? publishedEndpoints(cluster, old.any) : new Map<string, { health: string; weight: number }>();
      const now = publishedEndpoints(cluster, entry.any);
      this.published.push({ seq: this.seq, version: eds.version, cluster, endpoints: now });
      for (const [key, p] of now) {
        const w = was.get(key);
        if (!w || w.health !== p.health || w.weight !== p.weight) this.push({ kind: 'eds', key, cluster, version: eds.version, ...p });
      }
      for (const key of was.keys()) if (!now.has(key)) this.push({ kind: 'eds-removed', key, cluster, version: eds.version });
    }
    for (const [cluster, old] of before ?? []) {
      if (eds.resources.has(cluster)) continue;
      for (const key of publishedEndpoints(cluster, old.any).keys()) this.push({ kind: 'eds-removed', key, cluster, version: eds.version });
    }
  }

  private noteDecision(key: string, entry: TimelineEntry): void {
    if (!this.syncDecisions) {
      const run = new Map<string, TimelineEntry>();
      this.syncDecisions = run;
      queueMicrotask(() => {
        if (this.syncDecisions === run) this.syncDecisions = undefined;
      });
    }
    if (!this.syncDecisions.has(key)) this.syncDecisions.set(key, entry);
  }

  private onProbe(key: string, ok: boolean, latencyMs: number): void {
    const caused = this.syncDecisions?.get(key);
    if (!caused) {
      this.push({ kind: 'probe', key, ok, latencyMs });
      return;
    }
    const at = caused.seq - 1;
    this.entries.splice(at, 0, { kind: 'probe', key, ok, latencyMs, seq: caused.seq, t: caused.t });
    for (let i = at + 1; i < this.entries.length; i++) this.entries[i]!.seq = i + 1;
    this.seq = this.entries.length;
    this.syncDecisions?.delete(key);
  }

  private push(e: Unstamped): TimelineEntry {
    const full = { ...e, seq: ++this.seq, t: Date.now() } as TimelineEntry;
    this.entries.push(full);
    return full;
  }
}

/** Starts recording from the given sources (an app, or a bare control plane's cache and ledger). */
export function recordTimeline(src: Sources): Timeline {
  return new Timeline(src);
}

/** Failed probe → decision UNHEALTHY → EDS version with the endpoint UNHEALTHY → a proxy's ACK of that version (or a later one). */
export function drainSteps(): Step[] {
  return [
    step('probe', { match: (p) => !p.ok, what: 'a failed probe' }),
    step('decision', { match: (d) => d.health === 'UNHEALTHY', what: 'the decision UNHEALTHY' }),
    step('eds', { match: (e) => e.health === 'UNHEALTHY', what: 'an EDS version with it UNHEALTHY' }),
    step('ack', { what: "Envoy's ACK of that EDS version" }),
  ] as Step[];
}

/** A traffic share through Envoy recorded with `mark(key, 'share', value)` for which `ok(value)` holds. */
export function shareStep(what: string, ok: (share: number) => boolean): Step {
  return step('mark', { match: (m) => m.label === 'share' && m.value !== undefined && ok(m.value), what }) as Step;
}
