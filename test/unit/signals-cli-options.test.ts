import { describe, expect, it } from 'vitest';
import { parseControlPlane, parseEndpointSpec, parseIntervalMs, parseNodeId, parseToken } from '../../src/agent/cli-options.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('agent CLI options', () => {
  it.each([
    ['demo/127.0.0.1:9101', { cluster: 'demo', address: '127.0.0.1', port: 9101 }],
    ['api.v1/host-a.internal:80', { cluster: 'api.v1', address: 'host-a.internal', port: 80 }],
    ['demo/[::1]:9101', { cluster: 'demo', address: '::1', port: 9101 }],
  ])('--endpoint %s', (spec, expected) => {
    expect(parseEndpointSpec(spec)).toEqual(expected);
  });

  it.each([
    ['127.0.0.1:9101', 'expected cluster/address:port'],
    ['/127.0.0.1:9101', 'cluster "" must be'],
    ['de mo/127.0.0.1:9101', 'cluster "de mo" must be'],
    ['demo/127.0.0.1', 'expected cluster/address:port'],
    ['demo/127.0.0.1:0', 'port must be 1..65535'],
    ['demo/127.0.0.1:65536', 'port must be 1..65535'],
    ['demo/127.0.0.1:http', 'port must be 1..65535'],
    ['demo/:9101', 'expected cluster/address:port'],
    ['demo/a b:9101', 'is not a host name or IP address'],
  ])('--endpoint %s is refused (%s)', (spec, message) => {
    expect(() => parseEndpointSpec(spec)).toThrow(InvalidArgumentError);
    expect(() => parseEndpointSpec(spec)).toThrow(message);
    expect(() => parseEndpointSpec(spec)).toThrow(/^--endpoint: /);
  });

  it('--control-plane, --interval-ms, --node-id', () => {
    expect(parseControlPlane('127.0.0.1:18000')).toBe('127.0.0.1:18000');
    expect(() => parseControlPlane('127.0.0.1')).toThrow('--control-plane: expected host:port, e.g. 127.0.0.1:18000; got "127.0.0.1"');
    expect(parseIntervalMs('5000')).toBe(5000);
    expect(() => parseIntervalMs('50')).toThrow('--interval-ms: must be 100..3600000, got "50"');
    expect(() => parseIntervalMs('5s')).toThrow('--interval-ms');
    expect(parseNodeId('node-a')).toBe('node-a');
    expect(() => parseNodeId('node a')).toThrow('--node-id');
  });

  it('--token: 16-4096 visible ASCII characters, trimmed', () => {
    expect(parseToken('  abcdefghijklmnop\n')).toBe('abcdefghijklmnop');
    for (const bad of ['short', 'has a space inside it', 'x'.repeat(4097), 'caf\u00e9-token-0123456789']) {
      expect(() => parseToken(bad)).toThrow(/--token: must be 16-4096 visible ASCII characters/);
    }
  });
});
