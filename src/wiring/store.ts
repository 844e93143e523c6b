import { isAbsolute, resolve } from 'node:path';
import type { Logger } from '../log.js';
import { openStore, type Store } from '../store/index.js';

/** The store at `path`; a relative path is relative to the config file's directory, like every other path in it. */
export function openConfiguredStore(path: string, baseDir: string, logger: Logger): Store {
  const absolute = path === ':memory:' || path === '' || isAbsolute(path) ? path : resolve(baseDir, path);
  return openStore({ path: absolute }, { logger });
}
