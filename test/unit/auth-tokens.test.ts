import { describe, expect, it } from 'vitest';
import { AuthError, Authenticator, mayBeNode, mayServe } from '../../src/auth/index.js';

const tokens = [
  { name: 'ops', role: 'operator' as const, token: 'operator-token-0123456789' },
  { name: 'edge', role: 'agent' as const, tokenEnv: 'EDGE_AGENT_TOKEN', endpoints: ['web/*', 'api/[::1]:8080'], nodes: ['edge-1'] },
  { name: 'envoy', role: 'proxy' as const, tokenEnv: 'PROXY_TOKEN' },
];

const code = (fn: () => unknown): string => {
  try {
    fn();
    return 'OK';
  } catch (err) {
    return err instanceof AuthError ? err.code : String(err);
  }
};

describe('Authenticator', () => {
  it('resolves tokenEnv, reports what it cannot use, and names roles nobody can call', () => {
    const auth = new Authenticator({ tokens }, {}, { EDGE_AGENT_TOKEN: 'edge-agent-token-0123456789', PROXY_TOKEN: 'short' });
    expect(auth.identify('edge-agent-token-0123456789')).toMatchObject({ name: 'edge', role: 'agent' });
    expect(auth.identify('short')).toBeUndefined();
    expect(auth.problems).toEqual([
      'environment variable PROXY_TOKEN (auth.tokens[2].tokenEnv, "envoy") holds fewer than 16 characters',
      'no proxy token and no admin token configured (auth.tokens, admin.token): LRS (load report) calls are refused',
    ]);
    expect(auth.canAnyone('proxy')).toBe(false);
  });

  it('require(): UNAUTHENTICATED for missing, malformed and unknown tokens; PERMISSION_DENIED for another role; admin for all', () => {
    const auth = new Authenticator(
      { tokens },
      { token: 'admin-token-0123456789' },
      { EDGE_AGENT_TOKEN: 'edge-agent-token-0123456789', PROXY_TOKEN: 'proxy-token-0123456789' },
    );
    for (const header of [
      undefined,
      '',
      'Bearer',
      'bearer  ',
      'Token operator-token-0123456789',
      'operator-token-0123456789',
      'Bearer operator-token-012345678',
      'Bearer operator-token-0123456789x',
    ]) {
      expect(
        code(() => auth.require(header, 'operator', 'RegisterEndpoint')),
        String(header),
      ).toBe('UNAUTHENTICATED');
    }
    expect(code(() => auth.require('Bearer operator-token-0123456789', 'operator', 'x'))).toBe('OK');
    expect(code(() => auth.require('bearer\toperator-token-0123456789 ', 'operator', 'x'))).toBe('OK');
    expect(code(() => auth.require('Bearer operator-token-0123456789', 'proxy', 'x'))).toBe('PERMISSION_DENIED');
    expect(code(() => auth.require('Bearer proxy-token-0123456789', 'agent', 'x'))).toBe('PERMISSION_DENIED');
    for (const role of ['operator', 'agent', 'proxy'] as const) expect(auth.require('Bearer admin-token-0123456789', role, 'x').role).toBe('admin');
  });

  it('scopes: endpoint keys, cluster/*, bracketed IPv6, *; node ids', () => {
    const auth = new Authenticator({ tokens }, { token: 'admin-token-0123456789' }, { EDGE_AGENT_TOKEN: 'edge-agent-token-0123456789' });
    const edge = auth.identify('edge-agent-token-0123456789')!;
    expect(mayServe(edge, 'web', 'web/10.0.0.1:80')).toBe(true);
    expect(mayServe(edge, 'api', 'api/::1:8080')).toBe(true);
    expect(mayServe(edge, 'api', 'api/::1:8081')).toBe(false);
    expect(mayServe(edge, 'webx', 'webx/10.0.0.1:80')).toBe(false);
    expect(mayBeNode(edge, 'edge-1')).toBe(true);
    expect(mayBeNode(edge, 'edge-2')).toBe(false);
    const admin = auth.identify('admin-token-0123456789')!;
    expect(mayServe(admin, 'any', 'any/1.2.3.4:5') && mayBeNode(admin, 'whatever')).toBe(true);
  });

  it('reload() replaces every token (a removed token stops working at once)', () => {
    const auth = new Authenticator({ tokens }, {}, { EDGE_AGENT_TOKEN: 'edge-agent-token-0123456789', PROXY_TOKEN: 'proxy-token-0123456789' });
    expect(auth.identify('operator-token-0123456789')).toBeDefined();
    auth.reload({ tokens: [{ name: 'ops2', role: 'operator', token: 'operator-token-rotated-01' }] }, {}, {});
    expect(auth.identify('operator-token-0123456789')).toBeUndefined();
    expect(auth.identify('operator-token-rotated-01')?.name).toBe('ops2');
    expect(auth.canAnyone('agent')).toBe(false);
  });
});
