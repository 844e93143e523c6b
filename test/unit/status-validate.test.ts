import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  parseEndpointKey,
  validateDeregister,
  validateGetEndpoint,
  validateListAlerts,
  validateListEndpoints,
  validateRegister,
  validateWatch,
} from '../../src/status/validate.js';

const refused = (fn: () => unknown): InvalidArgumentError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return err as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError');
};

const reg = { cluster: 'demo', address: '10.0.0.1', port: 8080, weight: 0, zone: '', region: '', metadata: {} };

describe('RegisterEndpoint validation', () => {
  it.each([
    [{ cluster: '' }, 'cluster', 'cluster: required'],
    [{ cluster: 'bad name' }, 'cluster', 'cluster: letters, digits'],
    [{ cluster: 'x'.repeat(201) }, 'cluster', 'cluster: must be at most 200 characters, got 201'],
    [{ address: '' }, 'address', 'address: required'],
    [{ address: 'bad host' }, 'address', 'address: must be an IP address (IPv4 dotted quad or IPv6'],
    [{ address: '-bad.example' }, 'address', 'address: must be an IP address (IPv4 dotted quad or IPv6'],
    [{ address: '300.1.1.1' }, 'address', 'address: must be an IP address (IPv4 dotted quad or IPv6'],
    [{ address: '010.0.0.1' }, 'address', 'address: must be an IP address (IPv4 dotted quad or IPv6'],
    [{ address: '[::1]' }, 'address', 'address: must be an IP address (IPv4 dotted quad or IPv6'],
    [{ address: 'fe80::1%eth0' }, 'address', 'address: must be an IP address (IPv4 dotted quad or IPv6'],
    [{ address: 'a'.repeat(254) }, 'address', 'address: must be an IP address (at most 64 characters)'],
    // issue 10 finding 2: Envoy NACKs a host name in an EDS socket address ("malformed IP address")
    [{ address: 'localhost' }, 'address', 'address: must be an IP address, not a host name'],
    [{ address: 'api-1.svc.cluster.local.' }, 'address', 'address: must be an IP address, not a host name'],
    [{ port: 0 }, 'port', 'port: must be 1..65535, got 0'],
    [{ port: 70000 }, 'port', 'port: must be 1..65535, got 70000'],
    [{ weight: 5000 }, 'weight', 'weight: must be an integer 1..1000, got 5000'],
    [{ weight: 1.5 }, 'weight', 'weight: must be an integer 1..1000, got 1.5'],
    [{ zone: 'z'.repeat(101) }, 'zone', 'zone: must be at most 100 characters, got 101'],
    [{ region: 'eu\nwest' }, 'region', 'region: must not contain control characters'],
    [{ metadata: { 'bad key': 'v' } }, 'metadata["bad key"]', 'metadata["bad key"]: key must be'],
    [{ metadata: { k: 'v'.repeat(1025) } }, 'metadata["k"]', 'metadata["k"]: must be at most 1024 characters'],
    [{ metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }, 'metadata', 'metadata: at most 64 entries, got 65'],
  ])('%j is refused naming %s', (patch, field, message) => {
    const err = refused(() => validateRegister({ ...reg, ...patch }));
    expect(err.field).toBe(field);
    expect(err.message.startsWith(message)).toBe(true);
  });

  it('accepts IPv4 and IPv6 literals and maps defaults away', () => {
    expect(validateRegister(reg)).toEqual({
      cluster: 'demo',
      address: '10.0.0.1',
      port: 8080,
      weight: undefined,
      zone: undefined,
      region: undefined,
      metadata: undefined,
    });
    expect(validateRegister({ ...reg, address: '::1' }).address).toBe('::1');
    expect(validateRegister({ ...reg, address: '2001:db8::7' }).address).toBe('2001:db8::7');
    expect(validateRegister({ ...reg, weight: 7, zone: 'a', region: 'eu', metadata: { 'app.kubernetes.io/name': 'api' } })).toMatchObject({
      weight: 7,
      zone: 'a',
      region: 'eu',
      metadata: { 'app.kubernetes.io/name': 'api' },
    });
  });
});

describe('endpoint references', () => {
  it.each([
    ['demo/127.0.0.1:9101', { cluster: 'demo', address: '127.0.0.1', port: 9101, key: 'demo/127.0.0.1:9101' }],
    ['demo/::1:9101', { cluster: 'demo', address: '::1', port: 9101, key: 'demo/::1:9101' }],
    ['demo/[::1]:9101', { cluster: 'demo', address: '::1', port: 9101, key: 'demo/::1:9101' }],
    ['a.b:c-d/host.example:1', { cluster: 'a.b:c-d', address: 'host.example', port: 1, key: 'a.b:c-d/host.example:1' }],
  ])('parses %s', (key, ref) => {
    expect(parseEndpointKey('key', key)).toEqual(ref);
  });

  it.each([
    ['no-slash:80', 'key: must be cluster/address:port'],
    ['/1.2.3.4:80', 'key: must be cluster/address:port'],
    ['demo/1.2.3.4', 'key: must be cluster/address:port'],
    ['demo/1.2.3.4:', 'key: must be cluster/address:port'],
    ['demo/1.2.3.4:0', 'key: must be 1..65535, got 0'],
    ['demo/1.2.3.4:http', 'key: must be 1..65535, got http'],
    ['bad name/1.2.3.4:80', 'key: letters, digits'],
  ])('refuses key %s', (key, message) => {
    expect(refused(() => parseEndpointKey('key', key)).message.startsWith(message)).toBe(true);
  });

  it('GetEndpoint takes a key or cluster+address+port, not both, and bounds history', () => {
    const get = { key: '', cluster: '', address: '', port: 0, history_limit: 0, from_ms: 0, to_ms: 0 };
    expect(validateGetEndpoint({ ...get, key: 'demo/1.2.3.4:80' }, 100)).toEqual({
      ref: { key: 'demo/1.2.3.4:80', cluster: 'demo', address: '1.2.3.4', port: 80 },
      history: { from: undefined, to: undefined, limit: 100 },
    });
    expect(validateGetEndpoint({ ...get, cluster: 'demo', address: '1.2.3.4', port: 80, history_limit: 5, from_ms: 10, to_ms: 20 }, 100).history).toEqual({
      from: 10,
      to: 20,
      limit: 5,
    });
    expect(refused(() => validateGetEndpoint(get, 100)).message).toBe('key: required (or cluster + address + port)');
    expect(refused(() => validateGetEndpoint({ ...get, key: 'demo/1.2.3.4:80', port: 80 }, 100)).field).toBe('key');
    expect(refused(() => validateGetEndpoint({ ...get, cluster: 'demo', port: 80 }, 100)).message).toBe('address: required');
    expect(refused(() => validateGetEndpoint({ ...get, cluster: 'demo', address: 'h' }, 100)).message).toBe('port: must be 1..65535, got 0');
    expect(refused(() => validateGetEndpoint({ ...get, key: 'demo/h:1', history_limit: 100_001 }, 100)).field).toBe('history_limit');
    expect(refused(() => validateGetEndpoint({ ...get, key: 'demo/h:1', from_ms: -5 }, 100)).field).toBe('from_ms');
    expect(refused(() => validateGetEndpoint({ ...get, key: 'demo/h:1', from_ms: 20, to_ms: 10 }, 100)).message).toBe(
      'to_ms: must not be before from_ms (20), got 10',
    );
  });

  it('Deregister needs all three parts', () => {
    expect(validateDeregister({ cluster: 'demo', address: 'h', port: 1 }).key).toBe('demo/h:1');
    expect(refused(() => validateDeregister({ cluster: '', address: 'h', port: 1 })).field).toBe('cluster');
    expect(refused(() => validateDeregister({ cluster: 'demo', address: 'h', port: 65536 })).field).toBe('port');
  });
});

/** The decoder hands an enum value it does not know over as its number, which the generated request types do not admit. */
const unknownEnum = <T>(n: number): T => n as T;

describe('filters', () => {
  it('ListEndpoints: UNSPECIFIED means any; DRAINING and unknown numbers are refused', () => {
    expect(validateListEndpoints({ cluster: '', status: 'HEALTH_STATUS_UNSPECIFIED' })).toEqual({ cluster: undefined, status: undefined });
    expect(validateListEndpoints({ cluster: 'demo', status: 'HEALTH_STATUS_DEGRADED' })).toEqual({ cluster: 'demo', status: 'DEGRADED' });
    expect(refused(() => validateListEndpoints({ status: 'HEALTH_STATUS_DRAINING' })).field).toBe('status');
    expect(refused(() => validateListEndpoints({ status: unknownEnum(99) })).message).toMatch(/^status: unknown value 99; one of HEALTH_STATUS_HEALTHY/);
    expect(refused(() => validateListEndpoints({ cluster: 'a b' })).field).toBe('cluster');
  });

  it('ListAlerts maps state and level and checks the window', () => {
    expect(validateListAlerts({ state: 'ALERT_STATE_FIRING', level: 'ALERT_LEVEL_CRITICAL', from_ms: 0, to_ms: 0 })).toEqual({
      state: 'firing',
      level: 'critical',
      from: undefined,
      to: undefined,
    });
    expect(refused(() => validateListAlerts({ level: unknownEnum(7) })).field).toBe('level');
    expect(refused(() => validateListAlerts({ state: 'ALERT_STATE_RESOLVED', from_ms: 5, to_ms: 1 })).field).toBe('to_ms');
  });

  it('Watch: cluster is optional but must be a name', () => {
    expect(validateWatch({ cluster: '' })).toEqual({ cluster: undefined });
    expect(validateWatch({ cluster: 'demo' })).toEqual({ cluster: 'demo' });
    expect(refused(() => validateWatch({ cluster: 'x/y' })).field).toBe('cluster');
  });
});
