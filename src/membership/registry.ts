import type { Config, EndpointConfig } from '../config/schema.js';
import { endpointKey, type EndpointKey } from '../core/model.js';
import { NotFoundError } from '../errors.js';

/** One endpoint that exists: declared in the config file or registered at run time. */
export interface Member {
  readonly key: EndpointKey;
  readonly cluster: string;
  readonly address: string;
  readonly port: number;
  readonly zone?: string | undefined;
  readonly region?: string | undefined;
  readonly metadata?: Readonly<Record<string, string | number | boolean>> | undefined;
  /** Configured weight (1..1000): the published weight of a fully healthy endpoint is this × WEIGHT_UNIT. */
  readonly weight: number;
  readonly source: 'config' | 'runtime';
  /** The config file's entry (health override, per-endpoint check), for `config` members. */
  readonly declared?: Readonly<EndpointConfig> | undefined;
}

export type MembershipChange = { kind: 'added' | 'changed'; member: Member } | { kind: 'removed'; member: Member };

/**
 * Which endpoints exist: the config file's plus runtime registrations, per cluster. The one registry
 * that the health engine (what to probe and decide) and the xDS layer (what EDS lists) both read.
 * Adding or removing one endpoint costs O(1) and tells listeners about that endpoint only.
 */
export class Membership {
  private readonly clusters = new Map<string, Map<EndpointKey, Member>>();
  private readonly listeners = new Set<(change: MembershipChange) => void>();

  constructor(config: Readonly<Config>) {
    this.replaceConfig(config);
  }

  /** Apply a new config: config members follow the file, runtime members of kept clusters survive. */
  replaceConfig(config: Readonly<Config>): void {
    const changes: MembershipChange[] = [];
    const wanted = new Set(config.clusters.map((c) => c.name));
    for (const [name, members] of this.clusters) {
      if (wanted.has(name)) continue;
      for (const m of members.values()) changes.push({ kind: 'removed', member: m });
      this.clusters.delete(name);
    }
    for (const c of config.clusters) {
      let members = this.clusters.get(c.name);
      if (!members) {
        members = new Map();
        this.clusters.set(c.name, members);
      }
      const declared = new Map<EndpointKey, Member>();
      for (const e of c.endpoints) {
        const m = configMember(c.name, e);
        declared.set(m.key, m);
      }
      for (const [key, m] of members) {
        if (m.source === 'config' && !declared.has(key)) {
          members.delete(key);
          changes.push({ kind: 'removed', member: m });
        }
      }
      for (const [key, m] of declared) {
        const before = members.get(key);
        members.set(key, m);
        if (!before) changes.push({ kind: 'added', member: m });
        else if (!sameMember(before, m)) changes.push({ kind: 'changed', member: m });
      }
    }
    for (const ch of changes) this.emit(ch);
  }

  hasCluster(cluster: string): boolean {
    return this.clusters.has(cluster);
  }

  clusterNames(): string[] {
    return [...this.clusters.keys()];
  }

  /** The cluster's members (throws NotFoundError for an unknown cluster). */
  members(cluster: string): Iterable<Member> {
    return this.require(cluster).values();
  }

  size(cluster?: string): number {
    if (cluster !== undefined) return this.require(cluster).size;
    let n = 0;
    for (const m of this.clusters.values()) n += m.size;
    return n;
  }

  get(key: EndpointKey): Member | undefined {
    const cluster = key.slice(0, key.indexOf('/'));
    return this.clusters.get(cluster)?.get(key);
  }

  /** Add or change a runtime member. Config members cannot be replaced here. */
  upsert(member: Omit<Member, 'key' | 'source' | 'declared'>): Member {
    const members = this.require(member.cluster);
    const key = endpointKey(member.cluster, member.address, member.port);
    const before = members.get(key);
    if (before?.source === 'config') return before;
    const m: Member = Object.freeze({ ...member, key, source: 'runtime' as const });
    if (before && sameMember(before, m)) return before;
    members.set(key, m);
    this.emit({ kind: before ? 'changed' : 'added', member: m });
    return m;
  }

  remove(cluster: string, address: string, port: number): boolean {
    const members = this.require(cluster);
    const key = endpointKey(cluster, address, port);
    const m = members.get(key);
    if (!m) return false;
    members.delete(key);
    this.emit({ kind: 'removed', member: m });
    return true;
  }

  onChange(listener: (change: MembershipChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private require(cluster: string): Map<EndpointKey, Member> {
    const members = this.clusters.get(cluster);
    if (!members) throw new NotFoundError(`cluster "${cluster}"`);
    return members;
  }

  private emit(change: MembershipChange): void {
    for (const l of this.listeners) l(change);
  }
}

function configMember(cluster: string, e: Readonly<EndpointConfig>): Member {
  return Object.freeze({
    key: endpointKey(cluster, e.address, e.port),
    cluster,
    address: e.address,
    port: e.port,
    zone: e.zone,
    region: e.region,
    metadata: e.metadata,
    weight: e.weight,
    source: 'config' as const,
    declared: e,
  });
}

function sameMember(a: Member, b: Member): boolean {
  return (
    a.weight === b.weight &&
    a.zone === b.zone &&
    a.region === b.region &&
    a.source === b.source &&
    JSON.stringify(a.metadata ?? null) === JSON.stringify(b.metadata ?? null) &&
    JSON.stringify(a.declared ?? null) === JSON.stringify(b.declared ?? null)
  );
}
