import { describe, expect, it } from 'vitest';
import { differingSections, sharedConfigDigest } from '../../src/config/digest.js';
import { parseConfigText } from '../../src/config/load.js';

const yaml = (clusters: string) => `health:\n  tickMs: 250\nclusters:\n${clusters}`;

describe('sharedConfigDigest', () => {
  it('ignores key order and sections replicas need not share; names the section that differs', () => {
    const a = parseConfigText(yaml('  - name: web\n    endpoints:\n      - { address: 10.0.0.1, port: 80 }\n'), 'a.yaml');
    const b = parseConfigText(`xds:\n  listen: 127.0.0.1:19000\n${yaml('  - endpoints:\n      - { port: 80, address: 10.0.0.1 }\n    name: web\n')}`, 'b.yaml');
    const c = parseConfigText(yaml('  - name: web\n    endpoints:\n      - { address: 10.0.0.2, port: 80 }\n'), 'c.yaml');
    expect(sharedConfigDigest(a)).toEqual(sharedConfigDigest(b));
    expect(differingSections(sharedConfigDigest(a), sharedConfigDigest(c))).toEqual(['clusters']);
    expect(differingSections(sharedConfigDigest(a), {})).toEqual([]);
  });
});
