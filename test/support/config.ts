import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

/**
 * A validated config for tests: xDS on an ephemeral port, an in-memory store and no admin listener
 * unless the test asks for them (so parallel tests never share a file or a fixed port).
 */
export function testConfig(raw: Record<string, unknown>): Readonly<Config> {
  return validateConfig({
    ...raw,
    xds: { listen: '127.0.0.1:0', debounceMs: 20, ...((raw.xds as object) ?? {}) },
    store: { path: ':memory:', ...((raw.store as object) ?? {}) },
    admin: { enabled: false, listen: '127.0.0.1:0', ...((raw.admin as object) ?? {}) },
  });
}
