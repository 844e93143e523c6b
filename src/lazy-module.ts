import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS dependency loaded on first use instead of at start-up (`typeof import('x')` keeps the
 * types). For libraries only some configurations need — undici for HTTP checks and webhooks, etcd3
 * for replication — so a process that never uses them does not carry them (issue 13: start small).
 */
export function lazyModule<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}

/** Like lazyModule, for a dependency of `owner` (resolved from the owner's own location, not ours). */
export function lazyDependencyOf<T>(owner: string, name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= createRequire(require.resolve(owner))(name) as T);
}
