import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressPolicy, parseAllowEntry, parseIpLiteral } from '../../src/config/address-policy.js';
import { addressProblem, checkEndpointCapacity, endpointIssues, validateRegistration } from '../../src/config/endpoint-rules.js';
import { validateConfig } from '../../src/config/load.js';
import { InvalidArgumentError, ResourceExhaustedError } from '../../src/errors.js';
import { clusterName } from '../../src/status/validate.js';

const hex = (a: number, b: number): string => ((a << 8) | b).toString(16);
type Quad = [number, number, number, number];
const dotted = (q: Quad): string => q.join('.');

/** Every IPv6 spelling that reaches (or stands for) the IPv4 address q. */
function v6Forms(q: Quad): Array<[string, string]> {
  const [a, b, c, d] = q;
  const hi = hex(a, b);
  const lo = hex(c, d);
  const x = (n: number): number => n ^ 0xff;
  const forms: Array<[string, string]> = [
    ['IPv4-mapped', `::ffff:${dotted(q)}`],
    ['IPv4-mapped hex', `::ffff:${hi}:${lo}`],
    ['SIIT', `::ffff:0:${dotted(q)}`],
    ['NAT64', `64:ff9b::${dotted(q)}`],
    ['NAT64 hex', `64:ff9b::${hi}:${lo}`],
    ['NAT64 local-use /48', `64:ff9b:1:${hi}:${c.toString(16)}:${(d << 8).toString(16)}::`],
    ['6to4', `2002:${hi}:${lo}::1`],
    ['Teredo', `2001:0:4136:e378:8000:63bf:${hex(x(a), x(b))}:${hex(x(c), x(d))}`],
  ];
  // ::0.0.0.1 is ::1 (loopback) and ::0.0.0.0 is :: (refused on its own): not IPv4-compatible forms.
  if (!(a === 0 && b === 0 && c === 0 && d <= 1)) forms.push(['IPv4-compatible', `::${dotted(q)}`], ['IPv4-compatible hex', `::${hi}:${lo}`]);
  return forms;
}

const byte = fc.integer({ min: 0, max: 255 });
const quad = fc.tuple(byte, byte, byte, byte) as fc.Arbitrary<Quad>;

/** IPv4 addresses inside each refused range. */
const refusedV4: fc.Arbitrary<Quad> = fc.oneof(
  fc.tuple(fc.constant(169), fc.constant(254), byte, byte),
  fc.tuple(fc.constant(0), byte, byte, byte),
  fc.tuple(fc.integer({ min: 224, max: 239 }), byte, byte, byte),
  fc.constant([255, 255, 255, 255]),
  fc.constant([100, 100, 100, 200]),
) as fc.Arbitrary<Quad>;

const isRefusedV4 = ([a, b, c, d]: Quad): boolean =>
  (a === 169 && b === 254) ||
  a === 0 ||
  (a >= 224 && a <= 239) ||
  (a === 255 && b === 255 && c === 255 && d === 255) ||
  (a === 100 && b === 100 && c === 100 && d === 200);

describe('endpoint address rules (properties)', () => {
  const policy = new AddressPolicy([]);

  it('every IPv4 literal is accepted as written, unless it is in a refused range', () => {
    fc.assert(
      fc.property(quad, (q) => {
        const addr = dotted(q);
        expect(addressProblem(addr)).toBeUndefined();
        expect(validateRegistration({ cluster: 'c', address: addr, port: 80 }).address).toBe(addr);
        expect(addressProblem(addr, policy) === undefined).toBe(!isRefusedV4(q));
      }),
      { numRuns: 2000 },
    );
  });

  it('every IPv6 literal fast-check writes is accepted by syntax', () => {
    fc.assert(
      fc.property(fc.ipV6(), (addr) => {
        expect(addressProblem(addr)).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });

  it('every host name is refused, naming the field and saying why', () => {
    fc.assert(
      fc.property(fc.domain(), (name) => {
        let err: unknown;
        try {
          validateRegistration({ cluster: 'c', address: name, port: 80 });
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(InvalidArgumentError);
        expect((err as InvalidArgumentError).field).toBe('address');
        expect((err as InvalidArgumentError).message).toMatch(/^address: must be an IP address/);
      }),
      { numRuns: 1000 },
    );
  });

  it('every address in a refused IPv4 range is refused in every IPv6 form that embeds it', () => {
    fc.assert(
      fc.property(refusedV4, (q) => {
        expect(policy.refusal(dotted(q))).toBeDefined();
        for (const [form, addr] of v6Forms(q)) {
          expect(parseIpLiteral(addr), `${form} ${addr} parses`).toBeDefined();
          expect(policy.refusal(addr), `${form} ${addr}`).toMatch(/allow it with health\.allowTargets/);
          expect(addressProblem(addr, policy), `${form} ${addr}`).toMatch(/refused/);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('an allowlisted IPv4 range lifts the refusal in every form', () => {
    const allowing = new AddressPolicy(['169.254.0.0/16']);
    fc.assert(
      fc.property(byte, byte, (c, d) => {
        const q: Quad = [169, 254, c, d];
        expect(allowing.refusal(dotted(q))).toBeUndefined();
        for (const [form, addr] of v6Forms(q)) expect(allowing.refusal(addr), `${form} ${addr}`).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('addresses outside the refused ranges are not refused in their mapped and NAT64 forms', () => {
    fc.assert(
      fc.property(
        quad.filter((q) => !isRefusedV4(q)),
        (q) => {
          expect(policy.refusal(`::ffff:${dotted(q)}`)).toBeUndefined();
          expect(policy.refusal(`64:ff9b::${dotted(q)}`)).toBeUndefined();
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('IPv6 link-local and multicast addresses are refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0xfe80, max: 0xfebf }), fc.integer({ min: 0, max: 0xffff }), (w0, w7) => {
        expect(policy.refusal(`${w0.toString(16)}::${w7.toString(16)}`)).toMatch(/^link-local address/);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0xff00, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), (w0, w7) => {
        expect(policy.refusal(`${w0.toString(16)}::${w7.toString(16)}`)).toMatch(/^multicast address/);
      }),
    );
  });

  it('CIDRs: every IPv4 prefix of 0..32 bits parses; longer prefixes and junk are refused', () => {
    fc.assert(
      fc.property(quad, fc.integer({ min: 0, max: 40 }), (q, bits) => {
        const parsed = parseAllowEntry(`${dotted(q)}/${bits}`);
        if (bits <= 32) expect(parsed).toMatchObject({ kind: 'cidr' });
        else expect(parsed).toEqual({ error: expect.stringContaining('too long for IPv4') });
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 140 }), (ip, bits) => {
        const parsed = parseAllowEntry(`${ip}/${bits}`);
        if (bits <= 128) expect(parsed).toMatchObject({ kind: 'cidr' });
        else expect('error' in parsed).toBe(true);
      }),
    );
    for (const junk of ['10.0.0.0/x', '10.0.0.0/', '/8', '300.0.0.0/8', 'a b', '10.0.0.0/8/8', '01.2.3.4/32']) {
      expect(parseAllowEntry(junk), junk).toEqual({ error: expect.any(String) });
    }
  });

  it('a policy allows exactly what its CIDR covers', () => {
    fc.assert(
      fc.property(quad, fc.integer({ min: 8, max: 32 }), quad, (base, bits, probe) => {
        const p = new AddressPolicy([`${dotted(base)}/${bits}`]);
        const toInt = (q: Quad): number => ((q[0] << 24) | (q[1] << 16) | (q[2] << 8) | q[3]) >>> 0;
        const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
        const inside = (toInt(base) & mask) === (toInt(probe) & mask);
        if (isRefusedV4(probe)) expect(p.refusal(dotted(probe)) === undefined).toBe(inside);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('endpoint rules (examples)', () => {
  const policy = new AddressPolicy([]);

  it.each([
    ['169.254.169.254', /^address: 169\.254\.169\.254 refused: cloud metadata address/],
    ['64:ff9b::a9fe:a9fe', /NAT64 64:ff9b::\/96 form of 169\.254\.169\.254, a cloud metadata address/],
    ['::169.254.169.254', /IPv4-compatible ::\/96 form of 169\.254\.169\.254/],
    ['::ffff:a9fe:a9fe', /IPv4-mapped ::ffff:0:0\/96 form of 169\.254\.169\.254/],
    ['::ffff:169.254.169.254', /IPv4-mapped ::ffff:0:0\/96 form of 169\.254\.169\.254/],
    ['64:ff9b::169.254.169.254', /NAT64 64:ff9b::\/96 form of 169\.254\.169\.254/],
    ['2002:a9fe:a9fe::1', /6to4 2002::\/16 form of 169\.254\.169\.254/],
    ['fd00:ec2::254', /cloud metadata address \(AWS\)/],
    ['fe80::1', /link-local address/],
    ['0.0.0.0', /unspecified address/],
    ['::', /unspecified address/],
    ['224.0.0.1', /multicast address/],
    ['ff02::1', /multicast address/],
    ['255.255.255.255', /broadcast address/],
  ])('registration refuses %s unless allowlisted', (address, why) => {
    expect(() => validateRegistration({ cluster: 'c', address, port: 80 }, policy)).toThrow(why);
    const allowing = new AddressPolicy([address.includes(':') ? `${address}/128` : `${address}/32`]);
    expect(validateRegistration({ cluster: 'c', address, port: 80 }, allowing).address).toBe(address);
  });

  it('loopback and private addresses are fine', () => {
    for (const address of ['127.0.0.1', '::1', '10.1.2.3', '192.168.0.1', '2001:db8::1', 'fd00::1']) {
      expect(addressProblem(address, policy), address).toBeUndefined();
    }
  });

  it('reports every bad field of a config endpoint at its path', () => {
    expect(
      endpointIssues({ address: 'db.internal', port: 0, weight: 1001, zone: 'z'.repeat(101), metadata: { 'bad key': 1 } }).map((i) => i.path.join('.')),
    ).toEqual(['address', 'port', 'weight', 'zone', 'metadata.bad key']);
    expect(endpointIssues({ address: '10.0.0.1', port: 1, metadata: { n: 1, b: true } })).toEqual([]);
    expect(endpointIssues({ address: '10.0.0.1', port: 1, metadata: { n: 1 } }, undefined, 'string')).toEqual([
      { path: ['metadata', 'n'], message: 'must be a string' },
    ]);
  });

  it('caps the endpoint count with RESOURCE_EXHAUSTED', () => {
    expect(() => checkEndpointCapacity(9, 10)).not.toThrow();
    expect(() => checkEndpointCapacity(10, 10)).toThrow(ResourceExhaustedError);
    expect(() => checkEndpointCapacity(10, 10)).toThrow(expect.objectContaining({ code: 'RESOURCE_EXHAUSTED' }));
  });
});

describe('names (properties): the status API and the config file agree', () => {
  const NAME_CHARS = 'abcXYZ019_.:-';
  const accepts = (name: string): { api: boolean; config: boolean } => {
    let api = true;
    try {
      clusterName('cluster', name, true);
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      api = false;
    }
    let config = true;
    try {
      validateConfig({ clusters: [{ name }] });
    } catch {
      config = false;
    }
    return { api, config };
  };

  it('every name of the allowed alphabet (1..200 characters) is accepted by both', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 200 }), (name) => {
        expect(accepts(name)).toEqual({ api: true, config: true });
      }),
      { numRuns: 300 },
    );
  });

  it('every name with another character, or too long, is refused by both', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 0, maxLength: 20 }),
        fc.string({ unit: fc.constantFrom(' ', '/', '"', '\n', 'é', '*', '\u0000', '%'), minLength: 1, maxLength: 3 }),
        fc.string({ minLength: 0, maxLength: 20 }),
        (before, bad, after) => {
          expect(accepts(`${before}${bad}${after}`)).toEqual({ api: false, config: false });
        },
      ),
      { numRuns: 300 },
    );
    expect(accepts('x'.repeat(201))).toEqual({ api: false, config: false });
  });
});
