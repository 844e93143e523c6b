// Shared by scripts/ensure-envoy.mjs and scripts/ensure-etcd.mjs: is a file a runnable binary, and where on PATH is one.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return resolve(dir, name);
  }
  return null;
}
