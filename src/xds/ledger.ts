/** Per connected proxy: what it was sent, what it acknowledged, what it rejected and why. */
import type { NackRecord, ProxyRecord, TypeLedger } from '../operations.js';
import type { StreamCallbacks } from './session.js';

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

export class Ledger implements StreamCallbacks {
  private readonly open = new Map<string, ProxyRecord>();
  private readonly closed: Array<{ rec: ProxyRecord; bytes: number }> = [];
  private closedBytes = 0;
  private readonly listeners = new Set<(e: LedgerEvent) => void>();
  private readonly limits: LedgerLimits;
  /** Streams with an unresolved NACK: alert evaluation reads these, not every proxy. */
  private readonly nacking = new Set<string>();
  private readonly nackListeners = new Set<() => void>();
  private readonly streamListeners = new Set<() => void>();

  constructor(
    private readonly now: () => number = Date.now,
    limits: Partial<LedgerLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LEDGER_LIMITS, ...limits };
  }

  connect(rec: Omit<ProxyRecord, 'connectedAt' | 'types' | 'unknownTypes'>): ProxyRecord {
    const full: ProxyRecord = { ...rec, connectedAt: this.now(), types: {}, unknownTypes: [] };
    this.open.set(rec.streamId, full);
    this.emitStreams();
    return full;
  }

  disconnect(streamId: string): void {
    const rec = this.open.get(streamId);
    if (!rec) return;
    this.open.delete(streamId);
    if (this.nacking.delete(streamId)) this.emitNacked();
    this.emitStreams();
    rec.closedAt = this.now();
    const bytes = JSON.stringify(rec).length;
    this.closed.push({ rec, bytes });
    this.closedBytes += bytes;
    while (this.closed.length > 0 && (this.closed.length > this.limits.maxClosed || this.closedBytes > this.limits.maxClosedBytes)) {
      this.closedBytes -= this.closed.shift()!.bytes;
    }
  }

  sent(streamId: string, typeUrl: string, version: string): void {
    const t = this.type(streamId, typeUrl);
    if (!t) return;
    t.sentVersion = version;
    t.sentAt = this.now();
  }

  ack(streamId: string, typeUrl: string, version: string, publishedAt: number): void {
    const rec = this.open.get(streamId);
    if (!rec) return;
    const t = (rec.types[typeUrl] ??= { nacks: 0 });
    t.ackedVersion = version;
    t.ackedAt = this.now();
    // From the publish, or from the connection of a proxy that came later (it could not have had it earlier).
    t.publishToAckMs = Math.max(0, t.ackedAt - Math.max(publishedAt, rec.connectedAt));
    if (this.nacking.has(streamId) && !Object.values(rec.types).some(unresolved)) {
      this.nacking.delete(streamId);
      this.emitNacked();
    }
    this.emit({ kind: 'ack', proxy: rec, typeUrl, version, publishToAckMs: t.publishToAckMs });
  }

  nack(streamId: string, typeUrl: string, nack: Omit<NackRecord, 'at'>): void {
    const rec = this.open.get(streamId);
    const t = this.type(streamId, typeUrl);
    if (!rec || !t) return;
    const resources = nack.resources.slice(0, MAX_NACK_RESOURCES).map((n) => (n.length > MAX_NAME_CHARS ? n.slice(0, MAX_NAME_CHARS) : n));
    t.lastNack = { ...nack, resources, resourceCount: nack.resourceCount ?? nack.resources.length, at: this.now() };
    t.nacks += 1;
    this.nacking.add(streamId);
    this.emitNacked();
    this.emit({ kind: 'nack', proxy: rec, typeUrl, nack: t.lastNack });
  }

  /** What the stream's state holds back from the proxy after its last ACK or NACK of `typeUrl`. */
  held(streamId: string, typeUrl: string, heldBack: readonly string[], bisecting: boolean): void {
    const rec = this.open.get(streamId);
    const t = rec?.types[typeUrl];
    if (!rec || !t) return;
    if (heldBack.length === 0 && !bisecting && t.heldBack === undefined && t.bisecting === undefined) return; // the common ACK: nothing to change
    if (heldBack.length > 0) t.heldBack = heldBack.slice(0, MAX_NACK_RESOURCES).map((n) => (n.length > MAX_NAME_CHARS ? n.slice(0, MAX_NAME_CHARS) : n));
    else delete t.heldBack;
    if (bisecting) t.bisecting = true;
    else delete t.bisecting;
    const open = Object.values(rec.types).some(unresolved);
    if (open === this.nacking.has(streamId)) return;
    if (open) this.nacking.add(streamId);
    else this.nacking.delete(streamId);
    this.emitNacked();
  }

  unknownType(streamId: string, typeUrl: string): void {
    const rec = this.open.get(streamId);
    const t = typeUrl.length > MAX_TYPE_URL_CHARS ? typeUrl.slice(0, MAX_TYPE_URL_CHARS) : typeUrl;
    if (rec && !rec.unknownTypes.includes(t) && rec.unknownTypes.length < this.limits.maxUnknownTypes) rec.unknownTypes.push(t);
  }

  /** Connected proxies (deep copies). */
  proxies(): ProxyRecord[] {
    return [...this.open.values()].map((p) => structuredClone(p));
  }

  /** Whether an ADS stream from node `nodeId` is open now (read-only; LRS accepts reports only then). */
  hasOpenStream(nodeId: string): boolean {
    for (const rec of this.open.values()) if (rec.nodeId === nodeId) return true;
    return false;
  }

  /** The node ids with an open ADS stream now. */
  openNodeIds(): Set<string> {
    const ids = new Set<string>();
    for (const rec of this.open.values()) ids.add(rec.nodeId);
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
    for (const id of this.nacking) {
      const rec = this.open.get(id);
      if (!rec) continue;
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

  private type(streamId: string, typeUrl: string): TypeLedger | undefined {
    const rec = this.open.get(streamId);
    if (!rec) return undefined;
    return (rec.types[typeUrl] ??= { nacks: 0 });
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
