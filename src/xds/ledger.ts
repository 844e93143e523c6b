/** Per connected proxy: what it was sent, what it acknowledged, what it rejected and why. */
export interface NackRecord {
  version: string;
  message: string;
  code: number;
  at: number;
  /** The resources in the rejected response. */
  resources: string[];
}

export interface TypeLedger {
  sentVersion?: string;
  sentAt?: number;
  ackedVersion?: string;
  ackedAt?: number;
  /** Milliseconds from the snapshot's publication to this proxy's ACK of it. */
  publishToAckMs?: number;
  lastNack?: NackRecord;
  nacks: number;
}

export interface ProxyRecord {
  streamId: string;
  nodeId: string;
  nodeCluster?: string;
  userAgent?: string;
  protocol: 'sotw' | 'delta';
  peer: string;
  connectedAt: number;
  closedAt?: number;
  types: Record<string, TypeLedger>;
  unknownTypes: string[];
}

export type LedgerEvent =
  | { kind: 'nack'; proxy: ProxyRecord; typeUrl: string; nack: NackRecord }
  | { kind: 'ack'; proxy: ProxyRecord; typeUrl: string; version: string; publishToAckMs: number };

const MAX_CLOSED = 100;

/** A connected proxy with at least one resource type whose latest NACK has not been followed by an ACK. */
export interface NackedProxy {
  nodeId: string;
  /** Type URL and Envoy's message, per unresolved NACK. */
  nacked: Array<{ typeUrl: string; message: string }>;
}

const unresolved = (t: TypeLedger): boolean => t.lastNack !== undefined && (t.ackedAt === undefined || t.lastNack.at > t.ackedAt);

export class Ledger {
  private readonly open = new Map<string, ProxyRecord>();
  private readonly closed: ProxyRecord[] = [];
  private readonly listeners = new Set<(e: LedgerEvent) => void>();
  /** Streams with an unresolved NACK: alert evaluation reads these, not every proxy. */
  private readonly nacking = new Set<string>();
  private readonly nackListeners = new Set<() => void>();

  constructor(private readonly now: () => number = Date.now) {}

  connect(rec: Omit<ProxyRecord, 'connectedAt' | 'types' | 'unknownTypes'>): ProxyRecord {
    const full: ProxyRecord = { ...rec, connectedAt: this.now(), types: {}, unknownTypes: [] };
    this.open.set(rec.streamId, full);
    return full;
  }

  disconnect(streamId: string): void {
    const rec = this.open.get(streamId);
    if (!rec) return;
    this.open.delete(streamId);
    if (this.nacking.delete(streamId)) this.emitNacked();
    rec.closedAt = this.now();
    this.closed.push(rec);
    if (this.closed.length > MAX_CLOSED) this.closed.shift();
  }

  sent(streamId: string, typeUrl: string, version: string): void {
    const t = this.type(streamId, typeUrl);
    if (!t) return;
    t.sentVersion = version;
    t.sentAt = this.now();
  }

  ack(streamId: string, typeUrl: string, version: string, publishedAt: number): void {
    const rec = this.open.get(streamId);
    const t = this.type(streamId, typeUrl);
    if (!rec || !t) return;
    t.ackedVersion = version;
    t.ackedAt = this.now();
    t.publishToAckMs = Math.max(0, t.ackedAt - publishedAt);
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
    t.lastNack = { ...nack, at: this.now() };
    t.nacks += 1;
    this.nacking.add(streamId);
    this.emitNacked();
    this.emit({ kind: 'nack', proxy: rec, typeUrl, nack: t.lastNack });
  }

  unknownType(streamId: string, typeUrl: string): void {
    const rec = this.open.get(streamId);
    if (rec && !rec.unknownTypes.includes(typeUrl) && rec.unknownTypes.length < 20) rec.unknownTypes.push(typeUrl);
  }

  /** Connected proxies (deep copies). */
  proxies(): ProxyRecord[] {
    return [...this.open.values()].map((p) => structuredClone(p));
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
    return this.closed.map((p) => structuredClone(p));
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

  private emitNacked(): void {
    for (const l of this.nackListeners) l();
  }
}
