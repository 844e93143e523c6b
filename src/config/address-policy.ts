/**
 * Which IP addresses healthmesh may publish as upstreams or probe: one rule set for endpoint
 * registration, config endpoints and probe targets. Pure (no DNS, no I/O); IP parsing and CIDR
 * matching by ipaddr.js, literal syntax by node:net (strict dotted quads, as inet_pton).
 *
 * Refused unless listed in `health.allowTargets`: link-local (169.254/16, fe80::/10), cloud
 * metadata addresses, unspecified (0.0.0.0/8, ::), multicast and broadcast; and the same IPv4
 * addresses in every IPv6 form that reaches them (IPv4-mapped, IPv4-compatible, SIIT, NAT64
 * 64:ff9b::/96 and 64:ff9b:1::/48, 6to4, Teredo).
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type Ip = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Ip, number];

interface DenyRule {
  cidr: Cidr;
  what: string;
}

const rule = (cidr: string, what: string): DenyRule => ({ cidr: ipaddr.parseCIDR(cidr), what });

/** Most specific first: the first match names the reason. */
const DENY_V4: readonly DenyRule[] = [
  rule('169.254.169.254/32', 'cloud metadata address'),
  rule('100.100.100.200/32', 'cloud metadata address (Alibaba Cloud)'),
  rule('169.254.0.0/16', 'link-local address'),
  rule('0.0.0.0/8', 'unspecified address'),
  rule('224.0.0.0/4', 'multicast address'),
  rule('255.255.255.255/32', 'broadcast address'),
];

const DENY_V6: readonly DenyRule[] = [
  rule('fd00:ec2::254/128', 'cloud metadata address (AWS)'),
  rule('fe80::/10', 'link-local address'),
  rule('::/128', 'unspecified address'),
  rule('ff00::/8', 'multicast address'),
];

/** Cloud metadata services reached by name. */
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

const hiLo = (word: number): [number, number] => [word >> 8, word & 0xff];

interface Embedding {
  form: string;
  cidr: Cidr;
  extract: (parts: number[]) => number[];
}

const last32 = (p: number[]): number[] => [...hiLo(p[6] ?? 0), ...hiLo(p[7] ?? 0)];

/** IPv6 prefixes that carry an IPv4 address, and where. */
const EMBEDDINGS: readonly Embedding[] = [
  { form: 'IPv4-mapped ::ffff:0:0/96', cidr: ipaddr.parseCIDR('::ffff:0:0/96'), extract: last32 },
  { form: 'SIIT ::ffff:0:0:0/96', cidr: ipaddr.parseCIDR('::ffff:0:0:0/96'), extract: last32 },
  { form: 'NAT64 64:ff9b::/96', cidr: ipaddr.parseCIDR('64:ff9b::/96'), extract: last32 },
  // RFC 6052 /48 layout: v4 bits 0-15 in bits 48-63, bits 16-31 in bits 72-87 (bits 64-71 are "u").
  { form: 'NAT64 64:ff9b:1::/48', cidr: ipaddr.parseCIDR('64:ff9b:1::/48'), extract: (p) => [...hiLo(p[3] ?? 0), (p[4] ?? 0) & 0xff, (p[5] ?? 0) >> 8] },
  { form: '6to4 2002::/16', cidr: ipaddr.parseCIDR('2002::/16'), extract: (p) => [...hiLo(p[1] ?? 0), ...hiLo(p[2] ?? 0)] },
  { form: 'Teredo 2001::/32', cidr: ipaddr.parseCIDR('2001::/32'), extract: (p) => last32(p).map((b) => b ^ 0xff) },
];
const COMPATIBLE = ipaddr.parseCIDR('::/96');
const LOOPBACK_OR_UNSPECIFIED = ipaddr.parseCIDR('::/127');

/** The IPv4 addresses an IPv6 address reaches or stands for, with the form that carries each. */
export function embeddedIpv4(ip: ipaddr.IPv6): { form: string; v4: ipaddr.IPv4 }[] {
  const out: { form: string; v4: ipaddr.IPv4 }[] = [];
  for (const e of EMBEDDINGS) if (ip.match(e.cidr)) out.push({ form: e.form, v4: new ipaddr.IPv4(e.extract(ip.parts)) });
  if (ip.match(COMPATIBLE) && !ip.match(LOOPBACK_OR_UNSPECIFIED)) out.push({ form: 'IPv4-compatible ::/96', v4: new ipaddr.IPv4(last32(ip.parts)) });
  return out;
}

const unbracket = (s: string): string => (s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s);

/**
 * A strict IP literal (no brackets, no leading zeros, no shorthand like "127.1"), or undefined.
 * A zone id (`fe80::1%eth0`) is accepted only with `allowZone`.
 */
export function parseIpLiteral(text: string, opts: { allowZone?: boolean } = {}): Ip | undefined {
  const family = isIP(text);
  if (family === 0) return undefined;
  if (text.includes('%') && !opts.allowZone) return undefined;
  return family === 4 ? ipaddr.parse(text) : ipaddr.parse(hexTail(text));
}

/**
 * `::1.2.3.4` → `::102:304`. ipaddr.js reads any dotted tail as IPv4-mapped (`::ffff:1.2.3.4`);
 * inet_pton (Envoy, the kernel) reads it as the last 32 bits, which is what we must judge.
 */
function hexTail(v6: string): string {
  const zone = v6.indexOf('%');
  const addr = zone === -1 ? v6 : v6.slice(0, zone);
  const m = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (!m) return v6;
  const [a, b, c, d] = [m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number];
  return `${m[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}${zone === -1 ? '' : v6.slice(zone)}`;
}

export const normHostName = (name: string): string => name.trim().toLowerCase().replace(/\.$/, '');

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** A syntactically valid DNS host name (not an IP-looking string). */
export function isHostName(s: string): boolean {
  return HOST_NAME.test(s) && !/^[0-9.]+$/.test(s);
}

export type AllowEntry = { kind: 'cidr'; cidr: Cidr } | { kind: 'name'; name: string };

/** One `health.allowTargets` entry: an address, a CIDR (either may be bracketed) or a host name. */
export function parseAllowEntry(raw: string): AllowEntry | { error: string } {
  const entry = raw.trim();
  const bad = { error: `"${raw}" is not an IP address, CIDR or host name` };
  const slash = entry.indexOf('/');
  if (slash !== -1) {
    const ip = parseIpLiteral(unbracket(entry.slice(0, slash)));
    const bitsText = entry.slice(slash + 1);
    if (!ip || !/^\d{1,3}$/.test(bitsText)) return bad;
    const bits = Number(bitsText);
    if (bits > (ip.kind() === 'ipv4' ? 32 : 128))
      return { error: `"${raw}": prefix length ${bits} is too long for ${ip.kind() === 'ipv4' ? 'IPv4 (max 32)' : 'IPv6 (max 128)'}` };
    return { kind: 'cidr', cidr: [ip, bits] };
  }
  const ip = parseIpLiteral(unbracket(entry), { allowZone: true });
  if (ip) return { kind: 'cidr', cidr: [ip, ip.kind() === 'ipv4' ? 32 : 128] };
  if (isHostName(entry)) return { kind: 'name', name: normHostName(entry) };
  return bad;
}

const inCidr = (ip: Ip, cidr: Cidr): boolean => ip.kind() === cidr[0].kind() && ip.match(cidr);

/** Thrown by the AddressPolicy constructor for a malformed allow entry (the schema refuses it first). */
export class AllowListError extends Error {
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'AllowListError';
  }
}

/** The fixed refusal rules plus an operator's allowlist (`health.allowTargets`). */
export class AddressPolicy {
  private readonly allowed: Cidr[] = [];
  private readonly allowedNames = new Set<string>();

  constructor(allow: readonly string[] = []) {
    allow.forEach((raw, i) => {
      const e = parseAllowEntry(raw);
      if ('error' in e) throw new AllowListError(i, e.error);
      if (e.kind === 'cidr') this.allowed.push(e.cidr);
      else this.allowedNames.add(e.name);
    });
  }

  /**
   * Why this IP literal may not be used, or undefined when it may. Every IPv4 address embedded in
   * an IPv6 one is judged too; an allowlist entry covering either the address or its IPv4 form allows it.
   */
  refusal(address: string | Ip): string | undefined {
    const ip = typeof address === 'string' ? parseIpLiteral(address, { allowZone: true }) : address;
    if (!ip) return 'not an IP address';
    if (this.isAllowed(ip)) return undefined;
    const direct = denied(ip);
    if (direct) return `${direct} (allow it with health.allowTargets)`;
    if (ip.kind() === 'ipv6') {
      for (const { form, v4 } of embeddedIpv4(ip as ipaddr.IPv6)) {
        const why = denied(v4);
        if (why && !this.isAllowed(v4)) return `${form} form of ${v4.toString()}, a ${why} (allow it with health.allowTargets)`;
      }
    }
    return undefined;
  }

  /** Why a host name is refused by name alone (cloud metadata names), or undefined. */
  nameRefusal(name: string): string | undefined {
    const n = normHostName(name);
    if (this.allowedNames.has(n) || !METADATA_NAMES.has(n)) return undefined;
    return 'cloud metadata host name (allow it with health.allowTargets)';
  }

  isNameAllowed(name: string): boolean {
    return this.allowedNames.has(normHostName(name));
  }

  private isAllowed(ip: Ip): boolean {
    return this.allowed.some((c) => inCidr(ip, c));
  }
}

function denied(ip: Ip): string | undefined {
  return (ip.kind() === 'ipv4' ? DENY_V4 : DENY_V6).find((r) => inCidr(ip, r.cidr))?.what;
}

const cache = new WeakMap<readonly string[], AddressPolicy>();

/** The policy for a (frozen) allowlist, built once per list. */
export function policyFor(allow: readonly string[]): AddressPolicy {
  let p = cache.get(allow);
  if (!p) {
    p = new AddressPolicy(allow);
    cache.set(allow, p);
  }
  return p;
}
