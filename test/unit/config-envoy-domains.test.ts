import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

/**
 * Found with Envoy 1.40 (fresh-eyes-18): `healthmesh validate` accepts route configurations Envoy NACKs,
 * although the README says validate refuses "config that Envoy or gRPC clients are known to reject":
 *   "Only a single wildcard domain is permitted in route rc3" (two virtual hosts with "*"), and
 *   "Only unique values for domains are permitted. Duplicate entry of domain a.example in route rc4"
 *   (Envoy compares domains case-insensitively: "a.example" and "A.example" collide).
 */
const config = (domains: [string[], string[]]) => `
listeners: [ { name: l, port: 31510, routeConfig: rc } ]
routes:
  - name: rc
    virtualHosts:
      - { name: one, domains: ${JSON.stringify(domains[0])}, routes: [ { prefix: /, cluster: c } ] }
      - { name: two, domains: ${JSON.stringify(domains[1])}, routes: [ { prefix: /, cluster: c } ] }
clusters: [ { name: c, endpoints: [ { address: 127.0.0.1, port: 31101 } ] } ]
`;

function refusal(text: string): string {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`).join('\n');
  }
  return 'accepted';
}

describe('route domains Envoy rejects', () => {
  it('two virtual hosts with the wildcard domain are refused, naming the second', () => {
    expect(refusal(config([['*'], ['*']]))).toMatch(/routes\[0\]\.virtualHosts\[1\]\.domains\[0\]/);
  });

  it('a domain repeated across virtual hosts (case-insensitively) is refused', () => {
    expect(refusal(config([['a.example'], ['A.example']]))).toMatch(/routes\[0\]\.virtualHosts\[1\]\.domains\[0\]/);
  });

  it('distinct domains are accepted', () => {
    expect(refusal(config([['a.example'], ['b.example', '*']]))).toBe('accepted');
  });
});
