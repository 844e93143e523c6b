import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { TEST_AUTH } from './auth.js';

/**
 * A validated config for tests: xDS on an ephemeral port, an in-memory store and no admin listener
 * unless the test asks for them (so parallel tests never share a file or a fixed port), and the
 * test tokens (support/auth.ts) for the write RPCs unless the test sets `auth`.
 */
export function testConfig(raw: Record<string, unknown>): Readonly<Config> {
  return validateConfig({
    ...raw,
    xds: { listen: '127.0.0.1:0', debounceMs: 20, ...((raw.xds as object) ?? {}) },
    store: { path: ':memory:', ...((raw.store as object) ?? {}) },
    admin: { enabled: false, listen: '127.0.0.1:0', ...((raw.admin as object) ?? {}) },
    auth: raw.auth ?? structuredClone(TEST_AUTH),
  });
}
