import { randomBytes } from 'node:crypto';
import { status as GrpcStatus, type ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from '../log.js';
import type { SnapshotCache } from './cache.js';
import type { Ledger } from './ledger.js';
import { isXdsType, PUSH_ORDER, TYPE, WILDCARD_TYPES, type XdsTypeUrl } from './protos.js';
import type { ResourceEntry, Snapshot } from './snapshot.js';
import { isMalformed, type DeltaRequest, type DeltaResponse, type Malformed, type SotwRequest, type SotwResponse } from './wire.js';

export type Protocol = 'sotw' | 'delta';

export interface SessionOptions {
  cache: SnapshotCache;
  ledger: Ledger;
  logger: Logger;
  stuckStreamTimeoutMs: number;
  maxNacksPerMinute: number;
  now?: () => number;
}

interface Pending {
  nonce: string;
  version: string;
  publishedAt: number;
  names: string[];
}

interface TypeState {
  wildcard: boolean;
  names: Set<string>;
  /** What the client holds: the entry we sent, or (Delta reconnect) the version it told us. */
  known: Map<string, ResourceEntry | string>;
  answered: boolean;
  pending?: Pending;
}

interface Plan {
  /** Everything the client subscribes to that exists (SotW LDS/CDS responses carry all of it). */
  wanted: ResourceEntry[];
  send: ResourceEntry[];
  removed: string[];
  /** SotW wildcard types: removed resources kept in the set until nothing references them. */
  retained: ResourceEntry[];
}

type Call = ServerDuplexStream<SotwRequest | DeltaRequest | Malformed, SotwResponse | DeltaResponse>;

const versionOf = (k: ResourceEntry | string | undefined): string | undefined => (typeof k === 'string' ? k : k?.version);

/**
 * One ADS stream (SotW or Delta). Work per push is a diff of what the client holds against
 * the current snapshot; responses carry the snapshot's pre-encoded bytes. Nothing is queued:
 * a stream that cannot keep up simply gets the newest state when it drains.
 */
export class AdsSession {
  readonly id = randomBytes(6).toString('hex');
  private nodeId: string | undefined;
  private readonly types = new Map<XdsTypeUrl, TypeState>();
  private nonceCounter = 0;
  private blockedSince: number | undefined;
  private stuckTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private unsubscribe: (() => void) | undefined;
  private readonly nackTimes: number[] = [];
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(
    private readonly call: Call,
    readonly protocol: Protocol,
    private readonly opts: SessionOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.log = opts.logger.child({ stream: this.id, protocol });
    call.on('data', (req: SotwRequest | DeltaRequest | Malformed) => this.safely(() => this.onRequest(req)));
    call.on('end', () => this.close());
    call.on('cancelled', () => this.close());
    call.on('error', () => this.close());
    call.on('close', () => this.close());
    call.on('drain', () => this.safely(() => this.onDrain()));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, 'ADS stream failed');
      this.fail(GrpcStatus.INTERNAL, `healthmesh: internal error: ${(err as Error).message}`);
    }
  }

  private onRequest(req: SotwRequest | DeltaRequest | Malformed): void {
    if (this.closed) return;
    if (isMalformed(req)) return this.fail(GrpcStatus.INVALID_ARGUMENT, `malformed request: ${req.malformed}`);
    if (!this.nodeId) {
      const id = req.node?.id;
      if (!id) return this.fail(GrpcStatus.INVALID_ARGUMENT, 'node.id is required on the first request of a stream');
      this.nodeId = id;
      const ua = req.node?.user_agent_name ? `${req.node.user_agent_name}/${req.node.user_agent_version ?? ''}` : undefined;
      this.opts.ledger.connect({ streamId: this.id, nodeId: id, nodeCluster: req.node?.cluster, userAgent: ua, protocol: this.protocol, peer: this.call.getPeer() });
      this.log.info({ node: id, peer: this.call.getPeer() }, 'proxy connected');
      this.unsubscribe = this.opts.cache.subscribe(() => this.safely(() => this.pump()));
    }
    const typeUrl = req.type_url ?? '';
    if (!isXdsType(typeUrl)) {
      this.opts.ledger.unknownType(this.id, typeUrl);
      this.log.warn({ node: this.nodeId, typeUrl }, 'ignoring request for unsupported type_url');
      return;
    }
    const st = this.typeState(typeUrl);
    this.handleAck(typeUrl, st, req);
    if (this.closed) return;
    if (this.protocol === 'sotw') this.subscribeSotw(typeUrl, st, req as SotwRequest);
    else this.subscribeDelta(typeUrl, st, req as DeltaRequest);
    this.pump();
  }

  private typeState(typeUrl: XdsTypeUrl): TypeState {
    let st = this.types.get(typeUrl);
    if (!st) {
      st = { wildcard: false, names: new Set(), known: new Map(), answered: false };
      this.types.set(typeUrl, st);
    }
    return st;
  }

  private handleAck(typeUrl: XdsTypeUrl, st: TypeState, req: SotwRequest | DeltaRequest): void {
    const nonce = req.response_nonce;
    if (!nonce || !st.pending || nonce !== st.pending.nonce) return; // initial or stale: nothing to settle
    const pending = st.pending;
    st.pending = undefined;
    const err = req.error_detail;
    if (err && (err.message || err.code)) {
      const message = err.message ?? '';
      this.opts.ledger.nack(this.id, typeUrl, { version: pending.version, message, code: err.code ?? 0, resources: pending.names });
      this.log.warn({ node: this.nodeId, typeUrl, version: pending.version, resources: pending.names.slice(0, 10), error: message.slice(0, 2000) }, 'proxy rejected (NACK) a response; it keeps its last good config');
      const t = this.now();
      this.nackTimes.push(t);
      while (this.nackTimes.length > 0 && (this.nackTimes[0] ?? t) < t - 60_000) this.nackTimes.shift();
      if (this.nackTimes.length > this.opts.maxNacksPerMinute) {
        this.fail(GrpcStatus.RESOURCE_EXHAUSTED, `too many NACKs (${this.nackTimes.length} in a minute)`);
      }
      return;
    }
    this.opts.ledger.ack(this.id, typeUrl, pending.version, pending.publishedAt);
  }

  private subscribeSotw(typeUrl: XdsTypeUrl, st: TypeState, req: SotwRequest): void {
    const names = req.resource_names ?? [];
    const wildcard = WILDCARD_TYPES.has(typeUrl) && (names.length === 0 || names.includes('*'));
    st.wildcard = wildcard;
    const next = new Set(names.filter((n) => n !== '*'));
    for (const n of st.known.keys()) if (!wildcard && !next.has(n)) st.known.delete(n);
    st.names = next;
  }

  private subscribeDelta(typeUrl: XdsTypeUrl, st: TypeState, req: DeltaRequest): void {
    const subscribe = req.resource_names_subscribe ?? [];
    const unsubscribe = req.resource_names_unsubscribe ?? [];
    const first = !req.response_nonce && !st.answered && st.names.size === 0 && !st.wildcard;
    if (first && WILDCARD_TYPES.has(typeUrl) && subscribe.length === 0) st.wildcard = true;
    for (const n of subscribe) {
      if (n === '*') st.wildcard = true;
      else st.names.add(n);
    }
    for (const n of unsubscribe) {
      if (n === '*') st.wildcard = false;
      st.names.delete(n);
      st.known.delete(n);
    }
    for (const [name, version] of Object.entries(req.initial_resource_versions ?? {})) st.known.set(name, version);
  }

  private onDrain(): void {
    this.blockedSince = undefined;
    if (this.stuckTimer) clearTimeout(this.stuckTimer);
    this.stuckTimer = undefined;
    this.pump();
  }

  /** Send whatever the client lacks, in make-before-break order. */
  pump(): void {
    const snapshot = this.opts.cache.current();
    if (this.closed || !snapshot || this.blockedSince !== undefined) return;
    for (const typeUrl of PUSH_ORDER) {
      const st = this.types.get(typeUrl);
      if (!st) continue;
      const plan = this.plan(typeUrl, st, snapshot);
      const mustAnswer = !st.answered && (this.protocol === 'delta' || st.wildcard);
      if (plan.send.length === 0 && plan.removed.length === 0 && !mustAnswer) continue;
      if (this.protocol === 'sotw' && !st.wildcard && plan.send.length === 0) {
        for (const n of plan.removed) st.known.delete(n); // RDS/EDS removal is implied by the parent going away
        continue;
      }
      this.send(typeUrl, st, snapshot, plan);
      if (this.blockedSince !== undefined) return;
    }
  }

  private plan(typeUrl: XdsTypeUrl, st: TypeState, snapshot: Snapshot): Plan {
    const set = snapshot.types[typeUrl].resources;
    const wanted: ResourceEntry[] = st.wildcard ? [...set.values()] : [...st.names].flatMap((n) => set.get(n) ?? []);
    const send = wanted.filter((e) => versionOf(st.known.get(e.name)) !== e.version);
    const removed: string[] = [];
    const retained: ResourceEntry[] = [];
    for (const [name, held] of st.known) {
      if (set.has(name)) continue;
      if (this.canRemove(typeUrl, name, snapshot)) removed.push(name);
      else if (typeof held !== 'string') retained.push(held);
    }
    return { wanted, send, removed, retained };
  }

  /** A resource goes only when nothing the client holds still references it. */
  private canRemove(typeUrl: XdsTypeUrl, name: string, snapshot: Snapshot): boolean {
    const settled = (t: XdsTypeUrl): boolean => {
      const st = this.types.get(t);
      if (!st) return true;
      if (st.pending) return false;
      const p = this.plan(t, st, snapshot);
      return p.send.length === 0 && p.removed.length === 0;
    };
    switch (typeUrl) {
      case TYPE.cluster:
        return settled(TYPE.listener) && settled(TYPE.route);
      case TYPE.endpoint:
        return !this.types.get(TYPE.cluster)?.known.has(name);
      case TYPE.route:
        return settled(TYPE.listener);
      default:
        return true;
    }
  }

  private send(typeUrl: XdsTypeUrl, st: TypeState, snapshot: Snapshot, plan: Plan): void {
    const nonce = `${this.id}.${++this.nonceCounter}`;
    const version = snapshot.types[typeUrl].version;
    for (const name of plan.removed) st.known.delete(name);
    let entries: ResourceEntry[];
    let ok: boolean;
    if (this.protocol === 'sotw') {
      // LDS/CDS carry the whole set; RDS/EDS only what changed.
      entries = st.wildcard ? [...plan.wanted, ...plan.retained] : plan.send;
      ok = this.call.write({ version_info: version, type_url: typeUrl, nonce, resources: entries.map((e) => e.any) });
    } else {
      entries = plan.send;
      ok = this.call.write({
        system_version_info: version,
        type_url: typeUrl,
        nonce,
        resources: entries.map((e) => e.delta),
        removed_resources: plan.removed,
      });
    }
    for (const e of plan.send) st.known.set(e.name, e);
    if (typeUrl === TYPE.cluster) {
      // A changed cluster is re-warmed by Envoy: it must get its endpoints again.
      const eds = this.types.get(TYPE.endpoint);
      for (const e of plan.send) eds?.known.delete(e.name);
    }
    st.answered = true;
    st.pending = { nonce, version, publishedAt: snapshot.publishedAt, names: entries.map((e) => e.name) };
    this.opts.ledger.sent(this.id, typeUrl, version);
    if (!ok) this.block();
  }

  private block(): void {
    this.blockedSince = this.now();
    this.stuckTimer = setTimeout(() => {
      this.log.warn({ node: this.nodeId }, 'closing a stream that has not read its responses');
      this.fail(GrpcStatus.RESOURCE_EXHAUSTED, `stream did not read responses for ${this.opts.stuckStreamTimeoutMs} ms`);
    }, this.opts.stuckStreamTimeoutMs);
    this.stuckTimer.unref?.();
  }

  private fail(code: GrpcStatus, details: string): void {
    if (this.closed) return;
    this.log.warn({ node: this.nodeId, code, details }, 'closing ADS stream');
    this.close();
    this.call.emit('error', { code, details, name: 'Error', message: details });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stuckTimer) clearTimeout(this.stuckTimer);
    this.unsubscribe?.();
    this.opts.ledger.disconnect(this.id);
    if (this.nodeId) this.log.info({ node: this.nodeId }, 'proxy disconnected');
  }

  /** Ends the stream with UNAVAILABLE (server shutting down). */
  shutdown(): void {
    this.fail(GrpcStatus.UNAVAILABLE, 'control plane shutting down');
  }
}
