import type { EndpointKey } from '../core/model.js';
import { InvalidArgumentError } from '../errors.js';
import type { Member, Membership } from '../membership/registry.js';
import type { EndpointState, EnvoyHealth } from './resources.js';

/** Where EDS comes from: each cluster's endpoints with the health and weight to publish. */
export interface EndpointSource {
  endpoints(cluster: string): EndpointState[];
}

/** What is published for one member: health and weight on Envoy's scale (1..100000). */
export interface Published {
  health: EnvoyHealth;
  weight: number;
}

/**
 * EDS = membership × assignment, and nothing else: every member of the cluster with what its
 * assignment publishes. A member without an assignment yet is not served (UNHEALTHY).
 */
export function assignedEndpoints(membership: Membership, published: (key: EndpointKey) => Published | undefined): EndpointSource {
  return {
    endpoints(cluster) {
      const out: EndpointState[] = [];
      for (const m of membership.members(cluster)) {
        const p = published(m.key) ?? { health: 'UNHEALTHY' as const, weight: m.weight };
        out.push(endpointState(m, p));
      }
      return out;
    },
  };
}

export interface EndpointPatch {
  address: string;
  port: number;
  weight?: number;
  health?: EnvoyHealth;
  zone?: string;
  region?: string;
  metadata?: Record<string, string | number | boolean>;
}

/**
 * The control plane without a health engine (a library use, tests): endpoints are published as
 * configured, or as set by `set()` (health and a raw Envoy weight).
 */
export class ManualEndpoints implements EndpointSource {
  private readonly overrides = new Map<EndpointKey, Partial<Published>>();

  constructor(readonly membership: Membership) {
    membership.onChange((ch) => {
      if (ch.kind === 'removed') this.overrides.delete(ch.member.key);
    });
  }

  endpoints(cluster: string): EndpointState[] {
    const out: EndpointState[] = [];
    for (const m of this.membership.members(cluster)) {
      const o = this.overrides.get(m.key);
      out.push(endpointState(m, { health: o?.health ?? m.declared?.health ?? 'HEALTHY', weight: o?.weight ?? m.weight }));
    }
    return out;
  }

  /** Add an endpoint or change it (weight, health, locality, metadata). */
  set(cluster: string, patch: EndpointPatch): void {
    validatePatch(patch);
    const existing = [...this.membership.members(cluster)].find((m) => m.address === patch.address && m.port === patch.port);
    const m =
      existing?.source === 'config'
        ? existing
        : this.membership.upsert({
            cluster,
            address: patch.address,
            port: patch.port,
            weight: existing?.weight ?? 1,
            zone: patch.zone ?? existing?.zone,
            region: patch.region ?? existing?.region,
            metadata: patch.metadata ?? existing?.metadata,
          });
    const before = this.overrides.get(m.key);
    this.overrides.set(m.key, { health: patch.health ?? before?.health, weight: patch.weight ?? before?.weight });
  }

  remove(cluster: string, address: string, port: number): boolean {
    return this.membership.remove(cluster, address, port);
  }
}

function endpointState(m: Member, p: Published): EndpointState {
  return { address: m.address, port: m.port, zone: m.zone, region: m.region, metadata: m.metadata, health: p.health, weight: p.weight };
}

function validatePatch(p: EndpointPatch): void {
  if (typeof p.address !== 'string' || p.address.length === 0 || p.address.length > 253) {
    throw new InvalidArgumentError('address', 'must be a non-empty host name or IP address');
  }
  if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new InvalidArgumentError('port', `must be 1..65535, got ${p.port}`);
  if (p.weight !== undefined && (!Number.isInteger(p.weight) || p.weight < 1 || p.weight > 100_000)) {
    throw new InvalidArgumentError('weight', `must be an integer 1..100000, got ${p.weight}`);
  }
}
