import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { checkTargetLiteral, TargetPolicy, type Lookup } from '../../src/checks/targets.js';

const ALLOW_HINT = '(allow it with health.allowTargets)';
const METADATA = `cloud metadata address ${ALLOW_HINT}`;
const METADATA_NAME = `cloud metadata host name ${ALLOW_HINT}`;
/** Any refusal names the allowlist that would lift it. */
const refusedPattern = (address: string): RegExp =>
  new RegExp(`target ${address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} refused: .+ \\(allow it with health\\.allowTargets\\)$`);

describe('target policy: literals', () => {
  it.each<[string, string[], boolean]>([
    // [address, allowTargets, refused?]
    ['127.0.0.1', [], false],
    ['10.0.0.5', [], false],
    ['192.168.1.10', [], false],
    ['::1', [], false],
    ['2001:db8::1', [], false],
    ['169.254.169.254', [], true],
    ['169.254.0.1', [], true],
    ['169.254.255.255', [], true],
    ['169.253.255.255', [], false],
    ['169.255.0.0', [], false],
    ['100.100.100.200', [], true],
    ['100.100.100.201', [], false],
    ['fe80::1', [], true],
    ['FE80::abcd', [], true],
    ['fe80::1%eth0', [], true],
    ['[fe80::1]', [], true],
    ['febf::1', [], true], // still inside fe80::/10
    ['fec0::1', [], false],
    ['fd00:ec2::254', [], true],
    ['fd00:ec2:0:0:0:0:0:254', [], true],
    ['fd00:ec2::253', [], false],
    ['::ffff:169.254.169.254', [], true], // IPv4-mapped
    ['metadata', [], true],
    ['metadata.google.internal', [], true],
    ['Metadata.Google.Internal.', [], true],
    ['backend.internal', [], false], // names are vetted after resolution, at probe time
    // allowlist: exact address, CIDR, names
    ['169.254.169.254', ['169.254.169.254'], false],
    ['169.254.169.253', ['169.254.169.254'], true],
    ['169.254.10.20', ['169.254.10.0/24'], false],
    ['169.254.11.20', ['169.254.10.0/24'], true],
    ['169.254.11.20', ['169.254.0.0/16'], false],
    ['::ffff:169.254.169.254', ['169.254.169.254'], false],
    ['fe80::1', ['fe80::/64'], false],
    ['fe80:0:0:1::1', ['fe80::/64'], true],
    ['fd00:ec2::254', ['fd00:ec2::254'], false],
    ['fd00:ec2::254', ['[fd00:ec2::254]'], false],
    ['metadata.google.internal', ['metadata.google.internal'], false],
    ['metadata', ['metadata.google.internal'], true],
  ])('%s with allow %j: refused=%s', (address, allow, refused) => {
    const check = () => checkTargetLiteral(address, allow);
    if (refused) {
      expect(check).toThrow(InvalidArgumentError);
      expect(check).toThrow(refusedPattern(address));
    } else {
      expect(check).not.toThrow();
    }
  });

  it('names the field in the error', () => {
    let err: unknown;
    try {
      checkTargetLiteral('169.254.169.254', [], 'clusters[0].endpoints[2].address');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe('clusters[0].endpoints[2].address');
    expect((err as InvalidArgumentError).message).toBe(`clusters[0].endpoints[2].address: target 169.254.169.254 refused: ${METADATA}`);
  });

  it.each(['169.254.0.0/33', '10.0.0.0/x', 'fe80::/129', 'not an address', '1.2.3.4/'])('refuses the malformed allow entry %j', (entry) => {
    expect(() => new TargetPolicy(['127.0.0.1', entry])).toThrow(InvalidArgumentError);
    expect(() => new TargetPolicy(['127.0.0.1', entry])).toThrow('health.allowTargets[1]');
  });
});

describe('target policy: names resolved at probe time', () => {
  const lookup =
    (table: Record<string, Array<{ address: string; family: 4 | 6 }>>): Lookup =>
    async (name) => {
      const hit = table[name];
      if (!hit) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return hit;
    };
  const dns = lookup({
    'svc.local': [
      { address: '::1', family: 6 },
      { address: '127.0.0.1', family: 4 },
    ],
    'v6only.local': [{ address: '::1', family: 6 }],
    'sneaky.local': [
      { address: '127.0.0.1', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ],
    'metadata.google.internal': [{ address: '169.254.169.254', family: 4 }],
    'empty.local': [],
  });

  it('prefers the first IPv4 address and keeps the name', async () => {
    await expect(new TargetPolicy([]).resolve('svc.local', dns)).resolves.toEqual({ ok: true, address: '127.0.0.1', family: 4, hostname: 'svc.local' });
    await expect(new TargetPolicy([]).resolve('v6only.local', dns)).resolves.toEqual({ ok: true, address: '::1', family: 6, hostname: 'v6only.local' });
  });

  it('refuses a name when any of its addresses is refused', async () => {
    await expect(new TargetPolicy([]).resolve('sneaky.local', dns)).resolves.toEqual({
      ok: false,
      detail: `target sneaky.local refused: resolves to 169.254.169.254: ${METADATA}`,
    });
    await expect(new TargetPolicy(['169.254.169.254/32']).resolve('sneaky.local', dns)).resolves.toMatchObject({ ok: true, address: '127.0.0.1' });
  });

  it('refuses metadata names without resolving them, unless allowed by name', async () => {
    let asked = 0;
    const counting: Lookup = async (n) => {
      asked++;
      return dns(n);
    };
    await expect(new TargetPolicy([]).resolve('metadata.google.internal', counting)).resolves.toEqual({
      ok: false,
      detail: `target metadata.google.internal refused: ${METADATA_NAME}`,
    });
    expect(asked).toBe(0);
    await expect(new TargetPolicy(['metadata.google.internal']).resolve('metadata.google.internal', counting)).resolves.toMatchObject({
      ok: true,
      address: '169.254.169.254',
    });
  });

  it('reports resolution failures', async () => {
    await expect(new TargetPolicy([]).resolve('nope.local', dns)).resolves.toEqual({ ok: false, detail: 'cannot resolve nope.local: ENOTFOUND' });
    await expect(new TargetPolicy([]).resolve('empty.local', dns)).resolves.toEqual({ ok: false, detail: 'cannot resolve empty.local: no addresses' });
  });

  it('passes literals through without DNS', async () => {
    const never: Lookup = () => Promise.reject(new Error('no DNS expected'));
    await expect(new TargetPolicy([]).resolve('127.0.0.1', never)).resolves.toEqual({ ok: true, address: '127.0.0.1', family: 4 });
    await expect(new TargetPolicy([]).resolve('[::1]', never)).resolves.toEqual({ ok: true, address: '::1', family: 6 });
    await expect(new TargetPolicy([]).resolve('169.254.169.254', never)).resolves.toEqual({ ok: false, detail: `target 169.254.169.254 refused: ${METADATA}` });
  });
});
