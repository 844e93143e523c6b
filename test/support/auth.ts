import * as grpc from '@grpc/grpc-js';
import { Authenticator } from '../../src/auth/index.js';

/** Tokens every test config accepts (testConfig adds them unless the test sets `auth` itself). */
export const TEST_TOKENS = Object.freeze({
  operator: 'test-operator-token-0123456789',
  agent: 'test-agent-token-0123456789ab',
  proxy: 'test-proxy-token-0123456789ab',
});

export const TEST_AUTH = Object.freeze({
  tokens: [
    { name: 'test-operator', role: 'operator', token: TEST_TOKENS.operator },
    { name: 'test-agent', role: 'agent', token: TEST_TOKENS.agent, endpoints: ['*'] },
    { name: 'test-proxy', role: 'proxy', token: TEST_TOKENS.proxy },
  ],
});

/** An Authenticator with the test tokens (for services built without an app). */
export function testAuthenticator(extra: { admin?: string } = {}): Authenticator {
  return new Authenticator(TEST_AUTH as never, { token: extra.admin }, {});
}

/** gRPC metadata carrying `authorization: Bearer <token>`. */
export function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}
