import { isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import { AddressPolicy, AllowListError, parseIpLiteral } from '../config/address-policy.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * Probe target policy. Active checks must not become a way to reach the cloud metadata service
 * or other link-local addresses from the control plane's network position, so those are
 * refused unless an operator lists them in `health.allowTargets` (exact address, CIDR or name).
 * The rules are config/address-policy.ts (the same ones registration uses): IPv6 forms that embed
 * a refused IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) are refused too.
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** `dns.lookup(host, { all: true })`, injectable for tests. */
export type Lookup = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemLookup: Lookup = async (hostname) => {
  const all = await dnsLookup(hostname, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export type TargetDecision =
  | { ok: true; /** the IP to connect to */ address: string; family: 4 | 6; /** set when the target was a name */ hostname?: string }
  | { ok: false; detail: string };

const stripZone = (ip: string): string => {
  const i = ip.indexOf('%');
  return i === -1 ? ip : ip.slice(0, i);
};
const unbracket = (s: string): string => (s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s);

/** The parsed `health.allowTargets` list plus the fixed refusal rules. */
export class TargetPolicy {
  private readonly policy: AddressPolicy;

  /** Throws InvalidArgumentError for a malformed entry in `allow` (the config schema refuses it first). */
  constructor(allow: readonly string[] = [], field = 'health.allowTargets') {
    try {
      this.policy = new AddressPolicy(allow);
    } catch (err) {
      if (err instanceof AllowListError) throw new InvalidArgumentError(`${field}[${err.index}]`, err.reason);
      throw err;
    }
  }

  /** Why an IP literal is refused, or undefined when it may be probed. */
  refuseIp(ip: string): string | undefined {
    const parsed = parseIpLiteral(stripZone(unbracket(ip)));
    return parsed ? this.policy.refusal(parsed) : undefined;
  }

  /** Why a host name is refused by name alone (metadata names), or undefined. */
  refuseName(name: string): string | undefined {
    return this.policy.nameRefusal(name);
  }

  isNameAllowed(name: string): boolean {
    return this.policy.isNameAllowed(name);
  }

  /**
   * Vets a target and picks the address to connect to. Names are resolved and every address is
   * vetted (a name allowed explicitly allows what it resolves to); the first IPv4 address is
   * preferred, else the first address.
   */
  async resolve(target: string, lookup: Lookup = systemLookup): Promise<TargetDecision> {
    const literal = stripZone(unbracket(target));
    if (isIP(literal)) {
      const why = this.refuseIp(literal);
      return why ? { ok: false, detail: `target ${target} refused: ${why}` } : { ok: true, address: literal, family: isIP(literal) === 6 ? 6 : 4 };
    }
    const byName = this.refuseName(target);
    if (byName) return { ok: false, detail: `target ${target} refused: ${byName}` };
    let addrs: ResolvedAddress[];
    try {
      addrs = await lookup(target);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return { ok: false, detail: `cannot resolve ${target}: ${typeof code === 'string' ? code : String((err as Error).message ?? err)}` };
    }
    if (addrs.length === 0) return { ok: false, detail: `cannot resolve ${target}: no addresses` };
    if (!this.isNameAllowed(target)) {
      for (const a of addrs) {
        const why = this.refuseIp(a.address);
        if (why) return { ok: false, detail: `target ${target} refused: resolves to ${a.address}: ${why}` };
      }
    }
    const pick = addrs.find((a) => a.family === 4) ?? addrs[0]!;
    return { ok: true, address: pick.address, family: pick.family, hostname: target };
  }
}

/**
 * Config-time validation of a target as written (no DNS): throws InvalidArgumentError when it
 * is a refused IP literal or metadata name not listed in `allow`. Other names pass here and are
 * vetted after resolution at probe time.
 */
export function checkTargetLiteral(address: string, allow: readonly string[] | TargetPolicy, field = 'address'): void {
  const policy = allow instanceof TargetPolicy ? allow : new TargetPolicy(allow);
  const literal = stripZone(unbracket(address));
  const why = isIP(literal) ? policy.refuseIp(literal) : policy.refuseName(address);
  if (why) throw new InvalidArgumentError(field, `target ${address} refused: ${why}`);
}
