import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import { InvalidArgumentError } from '../errors.js';

/**
 * Probe target policy. Active checks must not become a way to reach the cloud metadata service
 * or other link-local addresses from the control plane's network position, so those are
 * refused unless an operator lists them in `health.allowTargets` (exact address, CIDR or name).
 */

const REFUSED_NAMES = new Set(['metadata', 'metadata.google.internal']);

function refusedAddresses(): BlockList {
  const b = new BlockList();
  b.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, includes 169.254.169.254 (AWS/GCP/Azure/OpenStack metadata)
  b.addSubnet('fe80::', 10, 'ipv6'); // link-local
  b.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6
  b.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud metadata
  return b;
}

export const REFUSED_REASON = 'link-local/metadata address (allow it with health.allowTargets)';

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

const family = (ip: string): 'ipv4' | 'ipv6' => (isIP(ip) === 6 ? 'ipv6' : 'ipv4');
const stripZone = (ip: string): string => {
  const i = ip.indexOf('%');
  return i === -1 ? ip : ip.slice(0, i);
};
const normName = (name: string): string => name.trim().toLowerCase().replace(/\.$/, '');
const unbracket = (s: string): string => (s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s);

/** The parsed `health.allowTargets` list plus the fixed refusal rules. */
export class TargetPolicy {
  private readonly refused = refusedAddresses();
  private readonly allowed = new BlockList();
  private readonly allowedNames = new Set<string>();

  /** Throws InvalidArgumentError for a malformed CIDR in `allow`. */
  constructor(allow: readonly string[] = [], field = 'health.allowTargets') {
    allow.forEach((raw, i) => {
      const entry = raw.trim();
      const slash = entry.indexOf('/');
      if (slash !== -1) {
        const ip = unbracket(entry.slice(0, slash));
        const bitsText = entry.slice(slash + 1);
        const v = isIP(ip);
        const bits = Number(bitsText);
        if (v === 0 || !/^\d{1,3}$/.test(bitsText) || bits > (v === 4 ? 32 : 128)) {
          throw new InvalidArgumentError(`${field}[${i}]`, `"${raw}" is not an address, CIDR or host name`);
        }
        this.allowed.addSubnet(ip, bits, v === 4 ? 'ipv4' : 'ipv6');
        return;
      }
      const ip = stripZone(unbracket(entry));
      if (isIP(ip)) this.allowed.addAddress(ip, family(ip));
      else if (/^[A-Za-z0-9_.-]+$/.test(entry)) this.allowedNames.add(normName(entry));
      else throw new InvalidArgumentError(`${field}[${i}]`, `"${raw}" is not an address, CIDR or host name`);
    });
  }

  /** Why an IP literal is refused, or undefined when it may be probed. */
  refuseIp(ip: string): string | undefined {
    const bare = stripZone(unbracket(ip));
    const fam = family(bare);
    if (!this.refused.check(bare, fam)) return undefined;
    if (this.allowed.check(bare, fam)) return undefined;
    return REFUSED_REASON;
  }

  /** Why a host name is refused by name alone (metadata names), or undefined. */
  refuseName(name: string): string | undefined {
    const n = normName(name);
    if (this.allowedNames.has(n)) return undefined;
    return REFUSED_NAMES.has(n) ? REFUSED_REASON : undefined;
  }

  isNameAllowed(name: string): boolean {
    return this.allowedNames.has(normName(name));
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
        if (why) return { ok: false, detail: `target ${target} refused: resolves to ${a.address}, a ${why}` };
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
