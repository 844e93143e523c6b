/** Per connected proxy: what it was sent, what it acknowledged, what it rejected and why. */
import type { NackRecord, ProxyRecord, TypeLedger } from '../operations.js';
import type { StreamCallbacks, StreamReport } from './session.js';

export type LedgerEvent =
  | { kind: 'nack'; proxy: ProxyRecord; typeUrl: string; nack: NackRecord }
  | { kind: 'ack'; proxy: ProxyRecord; typeUrl: string; version: string; publishToAckMs: number };

/** Bounds on what the ledger keeps from clients (see `xds.*` in the config). */
export interface LedgerLimits {
  /** Unsupported type_urls remembered per proxy. */
  maxUnknownTypes: number;
  /** Records of disconnected streams kept, by count and by estimated bytes. */
  maxClosed: number;
  maxClosedBytes: number;
}

export const DEFAULT_LEDGER_LIMITS: LedgerLimits = { maxUnknownTypes: 8, maxClosed: 100, maxClosedBytes: 1024 * 1024 };
const MAX_TYPE_URL_CHARS = 256;
const MAX_NACK_RESOURCES = 100;
const MAX_NAME_CHARS = 256;

/** A connected proxy with at least one resource type whose latest NACK has not been followed by an ACK. */
export interface NackedProxy {
  nodeId: string;
  /** Type URL and Envoy's message, per unresolved NACK. */
  nacked: Array<{ typeUrl: string; message: string }>;
}

/** A NACK is unresolved until the proxy ACKs a later response and nothing it rejected is held back from it any more. */
const unresolved = (t: TypeLedger): boolean =>
  t.lastNack !== undefined && ((t.heldBack?.length ?? 0) > 0 || t.bisecting === true || t.ackedAt === undefined || t.lastNack.at > t.ackedAt);

/** What a LedgerStream tells its ledger (private to the two). */
interface LedgerHooks {
  now(): number;
  readonly maxUnknownTypes: number;
  acked(stream: LedgerStream, typeUrl: string, version: string, publishToAckMs: number): void;
  nacked(stream: LedgerStream, typeUrl: string, nack: NackRecord): void;
  heldChanged(stream: LedgerStream): void;
  closed(stream: LedgerStream): void;
}

/**
 * One open stream's record, as its session reports to it (go-control-plane's per-stream callbacks): the session
 * holds it, so a push or an ACK goes straight to the stream's record (no look-up by stream id on the hot path).
 */
export class LedgerStream implements StreamReport {
  /** The type last reported: nearly every push and ACK after the initial sync is EDS. */
  private lastTypeUrl: string | undefined;
  private lastType: TypeLedger | undefined;

  constructor(
    private readonly ledger: LedgerHooks,
    readonly record: ProxyRecord,
  ) {}

  private type(typeUrl: string): TypeLedger {
    if (typeUrl === this.lastTypeUrl) return this.lastType!;
    const t = (this.record.types[typeUrl] ??= { nacks: 0 });
    this.lastTypeUrl = typeUrl;
    this.lastType = t;
    return t;
  }

  sent(typeUrl: string, version: string): void {
    const t = this.type(typeUrl);
    t.sentVersion = version;
    t.sentAt = this.ledger.now();
  }

  ack(typeUrl: string, version: string, publishedAt: number): void {
    const rec = this.record;
    const t = this.type(typeUrl);
    t.ackedVersion = version;
    t.ackedAt = this.ledger.now();
    // From the publish, or from the connection of a proxy that came later (it could not have had it earlier).
    t.publishToAckMs = Math.max(0, t.ackedAt - Math.max(publishedAt, rec.connectedAt));
    this.ledger.acked(this, typeUrl, version, t.publishToAckMs);
  }

  nack(typeUrl: string, nack: Omit<NackRecord, 'at'>): void {
    const t = this.type(typeUrl);
    const resources = nack.resources.slice(0, MAX_NACK_RESOURCES).map((n) => (n.length > MAX_NAME_CHARS ? n.slice(0, MAX_NAME_CHARS) : n));
    t.lastNack = { ...nack, resources, resourceCount: nack.resourceCount ?? nack.resources.length, at: this.ledger.now() };
    t.nacks += 1;
    this.ledger.nacked(this, typeUrl, t.lastNack);
  }

  held(typeUrl: string, heldBack: readonly string[], bisecting: boolean): void {
    const t = typeUrl === this.lastTypeUrl ? this.lastType : this.record.types[typeUrl];
    if (!t) return;
    if (heldBack.length === 0 && !bisecting && t.heldBack === undefined && t.bisecting === undefined) return; // the common ACK: nothing to change
    if (heldBack.length > 0) t.heldBack = heldBack.slice(0, MAX_NACK_RESOURCES).map((n) => (n.length > MAX_NAME_CHARS ? n.slice(0, MAX_NAME_CHARS) : n));
    else delete t.heldBack;
    if (bisecting) t.bisecting = true;
    else delete t.bisecting;
    this.ledger.heldChanged(this);
  }

  unknownType(typeUrl: string): void {
    const rec = this.record;
    const t = typeUrl.length > MAX_TYPE_URL_CHARS ? typeUrl.slice(0, MAX_TYPE_URL_CHARS) : typeUrl;
    if (!rec.unknownTypes.includes(t) && rec.unknownTypes.length < this.ledger.maxUnknownTypes) rec.unknownTypes.push(t);
  }

  disconnect(): void {
    this.ledger.closed(this);
  }

  /** Whether a NACK of this stream is unresolved. */
  nacking(): boolean {
    return Object.values(this.record.types).some(unresolved);
  }
}

export class Ledger implements StreamCallbacks {
  private readonly open = new Map<string, LedgerStream>();
  private readonly closed: Array<{ rec: ProxyRecord; bytes: number }> = [];
  private closedBytes = 0;
  private readonly listeners = new Set<(e: LedgerEvent) => void>();
  private readonly limits: LedgerLimits;
  /** Streams with an unresolved NACK: alert evaluation reads these, not every proxy. */
  private readonly nacking = new Set<LedgerStream>();
  private readonly nackListeners = new Set<() => void>();
  private readonly streamListeners = new Set<() => void>();
  private readonly hooks: LedgerHooks;

  constructor(
    private readonly now: () => number = Date.now,
    limits: Partial<LedgerLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LEDGER_LIMITS, ...limits };
    // What its streams report back: an ACK may resolve a NACK; a NACK, a change of what is held back or a close may change the set.
    this.hooks = {
      now: () => this.now(),
      maxUnknownTypes: this.limits.maxUnknownTypes,
      acked: (stream, typeUrl, version, publishToAckMs) => {
        if (this.nacking.has(stream) && !stream.nacking()) {
          this.nacking.delete(stream);
          this.emitNacked();
        }
        this.emit({ kind: 'ack', proxy: stream.record, typeUrl, version, publishToAckMs });
      },
      nacked: (stream, typeUrl, nack) => {
        this.nacking.add(stream);
        this.emitNacked();
        this.emit({ kind: 'nack', proxy: stream.record, typeUrl, nack });
      },
      heldChanged: (stream) => {
        const open = stream.nacking();
        if (open === this.nacking.has(stream)) return;
        if (open) this.nacking.add(stream);
        else this.nacking.delete(stream);
        this.emitNacked();
      },
      closed: (stream) => {
        const rec = stream.record;
        if (this.open.get(rec.streamId) !== stream) return;
        this.open.delete(rec.streamId);
        if (this.nacking.delete(stream)) this.emitNacked();
        this.emitStreams();
        rec.closedAt = this.now();
        const bytes = JSON.stringify(rec).length;
        this.closed.push({ rec, bytes });
        this.closedBytes += bytes;
        while (this.closed.length > 0 && (this.closed.length > this.limits.maxClosed || this.closedBytes > this.limits.maxClosedBytes)) {
          this.closedBytes -= this.closed.shift()!.bytes;
        }
      },
    };
  }

  /** A stream opened (its node known): what its session reports from now on goes to the returned record. */
  connect(rec: Omit<ProxyRecord, 'connectedAt' | 'types' | 'unknownTypes'>): LedgerStream {
    const stream = new LedgerStream(this.hooks, { ...rec, connectedAt: this.now(), types: {}, unknownTypes: [] });
    this.open.set(rec.streamId, stream);
    this.emitStreams();
    return stream;
  }

  /** Connected proxies (deep copies). */
  proxies(): ProxyRecord[] {
    return [...this.open.values()].map((s) => structuredClone(s.record));
  }

  /** Whether an ADS stream from node `nodeId` is open now (read-only; LRS accepts reports only then). */
  hasOpenStream(nodeId: string): boolean {
    for (const s of this.open.values()) if (s.record.nodeId === nodeId) return true;
    return false;
  }

  /** The node ids with an open ADS stream now. */
  openNodeIds(): Set<string> {
    const ids = new Set<string>();
    for (const s of this.open.values()) ids.add(s.record.nodeId);
    return ids;
  }

  /** Called whenever an ADS stream opens or closes. */
  onStreamsChange(listener: () => void): () => void {
    this.streamListeners.add(listener);
    return () => this.streamListeners.delete(listener);
  }

  /** Connected proxies with an unresolved NACK (cheap: only those are read). */
  nacked(): NackedProxy[] {
    const out: NackedProxy[] = [];
    for (const stream of this.nacking) {
      const rec = stream.record;
      const nacked = Object.entries(rec.types).flatMap(([typeUrl, t]) => (unresolved(t) ? [{ typeUrl, message: t.lastNack!.message }] : []));
      if (nacked.length) out.push({ nodeId: rec.nodeId, nacked });
    }
    return out;
  }

  /** Called whenever the set of unresolved NACKs changes (a NACK, the ACK that resolves it, the proxy leaving). */
  onNackedChange(listener: () => void): () => void {
    this.nackListeners.add(listener);
    return () => this.nackListeners.delete(listener);
  }

  /** Recently disconnected proxies, oldest first. */
  disconnected(): ProxyRecord[] {
    return this.closed.map((p) => structuredClone(p.rec));
  }

  onEvent(listener: (e: LedgerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: LedgerEvent): void {
    for (const l of this.listeners) l(e);
  }

  private emitStreams(): void {
    for (const l of this.streamListeners) l();
  }

  private emitNacked(): void {
    for (const l of this.nackListeners) l();
  }
}
