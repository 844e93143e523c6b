import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import type { HeartbeatRequestWire } from '../../src/signals/agent-proto.js';
import { validateHeartbeat } from '../../src/signals/heartbeat.js';

const good = (): HeartbeatRequestWire => ({
  node_id: 'node-a',
  endpoints: [
    { cluster: 'demo', address: '127.0.0.1', port: 9101 },
    { cluster: 'demo', address: '127.0.0.1', port: 9102 },
    { cluster: 'api', address: 'host-a.internal', port: 80 },
  ],
  cpu_percent: 12.5,
  memory_percent: 40,
  disk_percent: 70,
  interval_ms: 5000,
  agent_version: 'healthmesh-agent/0.1.0',
});

const limits = { maxEndpoints: 5, maxNodeIdLength: 20 };
const ep = (port: number) => ({ cluster: 'demo', address: '127.0.0.1', port });

describe('validateHeartbeat', () => {
  it('accepts a good heartbeat and maps it', () => {
    expect(validateHeartbeat(good(), limits)).toEqual({
      nodeId: 'node-a',
      endpoints: good().endpoints,
      cpuPercent: 12.5,
      memoryPercent: 40,
      diskPercent: 70,
      intervalMs: 5000,
      agentVersion: 'healthmesh-agent/0.1.0',
    });
  });

  it('accepts the bounds: 0 and 100 percent, no endpoints, no agent_version, max endpoints', () => {
    expect(() => validateHeartbeat({ ...good(), cpu_percent: 0, memory_percent: 100, disk_percent: 0 }, limits)).not.toThrow();
    expect(() => validateHeartbeat({ ...good(), endpoints: [] }, limits)).not.toThrow();
    expect(() => validateHeartbeat({ ...good(), agent_version: '' }, limits)).not.toThrow();
    expect(() => validateHeartbeat({ ...good(), endpoints: [1, 2, 3, 4, 5].map(ep) }, limits)).not.toThrow();
  });

  it.each<[string, Partial<HeartbeatRequestWire>, string]>([
    ['missing node_id', { node_id: '' }, 'node_id: required'],
    ['node_id too long', { node_id: 'n'.repeat(21) }, 'node_id: must be at most 20 characters, got 21'],
    ['node_id with a space', { node_id: 'node a' }, 'node_id: visible ASCII characters only (no spaces)'],
    ['cpu over 100', { cpu_percent: 140 }, 'cpu_percent: must be 0..100, got 140'],
    ['cpu negative', { cpu_percent: -1 }, 'cpu_percent: must be 0..100, got -1'],
    ['cpu NaN', { cpu_percent: Number.NaN }, 'cpu_percent: must be 0..100, got NaN'],
    ['memory infinite', { memory_percent: Number.POSITIVE_INFINITY }, 'memory_percent: must be 0..100, got Infinity'],
    ['disk over 100', { disk_percent: 100.5 }, 'disk_percent: must be 0..100, got 100.5'],
    ['interval too short', { interval_ms: 0 }, 'interval_ms: must be 100..3600000, got 0'],
    ['interval too long', { interval_ms: 3_600_001 }, 'interval_ms: must be 100..3600000, got 3600001'],
    ['agent_version too long', { agent_version: 'v'.repeat(65) }, 'agent_version: must be at most 64 characters, got 65'],
    ['agent_version with control chars', { agent_version: 'v1\n' }, 'agent_version: printable ASCII only'],
    ['too many endpoints', { endpoints: [1, 2, 3, 4, 5, 6].map(ep) }, 'endpoints: at most 5 per heartbeat, got 6'],
    ['endpoint port 0', { endpoints: [ep(1), ep(2), ep(0)] }, 'endpoints[2].port: must be 1..65535, got 0'],
    ['endpoint port too big', { endpoints: [ep(65536)] }, 'endpoints[0].port: must be 1..65535, got 65536'],
    ['endpoint without cluster', { endpoints: [ep(1), { cluster: '', address: '127.0.0.1', port: 2 }] }, 'endpoints[1].cluster: required'],
    [
      'endpoint with a bad cluster name',
      { endpoints: [{ cluster: 'de mo', address: '127.0.0.1', port: 2 }] },
      'endpoints[0].cluster: letters, digits, "_", ".", ":" or "-" only',
    ],
    ['endpoint without address', { endpoints: [{ cluster: 'demo', address: '', port: 2 }] }, 'endpoints[0].address: required'],
    [
      'endpoint address too long',
      { endpoints: [{ cluster: 'demo', address: 'a'.repeat(254), port: 2 }] },
      'endpoints[0].address: must be at most 253 characters, got 254',
    ],
    ['endpoint address with a space', { endpoints: [{ cluster: 'demo', address: 'a b', port: 2 }] }, 'endpoints[0].address: must be a host name or IP address'],
    ['duplicate endpoint', { endpoints: [ep(1), ep(2), ep(1)] }, 'endpoints[2]: duplicate of endpoints[0] (demo/127.0.0.1:1)'],
  ])('%s → %s', (_name, patch, message) => {
    let caught: unknown;
    try {
      validateHeartbeat({ ...good(), ...patch }, limits);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    expect((caught as InvalidArgumentError).message).toBe(message);
    expect((caught as InvalidArgumentError).field).toBe(message.split(':')[0]);
  });

  it('uses 1000 endpoints and 256 characters of node_id by default', () => {
    const many = Array.from({ length: 1001 }, (_, i) => ep(i + 1));
    expect(() => validateHeartbeat({ ...good(), endpoints: many })).toThrow('endpoints: at most 1000 per heartbeat, got 1001');
    expect(() => validateHeartbeat({ ...good(), endpoints: many.slice(0, 1000) })).not.toThrow();
    expect(() => validateHeartbeat({ ...good(), node_id: 'n'.repeat(257) })).toThrow('node_id: must be at most 256 characters, got 257');
  });
});
