/**
 * Checks of a config against the file system, run by the loader after the schema: every custom
 * check module must exist as a file, resolved as the checker resolves it (relative to the config
 * file's directory). A reload that names a missing module is refused whole, before anything applies.
 */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigIssue } from '../errors.js';
import type { CheckConfig, Config } from './schema.js';

/** Where a custom check module lives; the same rule as checks/custom.ts `resolvePath`. */
export function resolveModulePath(module: string, baseDir: string): string {
  if (module.startsWith('file:')) return fileURLToPath(module);
  return isAbsolute(module) ? module : resolve(baseDir, module);
}

export function fileIssues(config: Config, baseDir: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const check = (c: CheckConfig | undefined, path: string): void => {
    if (!c?.custom) return;
    const module = c.custom.module;
    let problem: string | undefined;
    try {
      const p = resolveModulePath(module, baseDir);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) problem = `custom check module not found (resolved to ${p})`;
      else if (!st.isFile()) problem = `custom check module is not a file (resolved to ${p})`;
    } catch (err) {
      problem = `custom check module cannot be resolved: ${(err as Error).message}`;
    }
    if (problem) issues.push({ path: `${path}.custom.module`, message: problem, value: module });
  };
  config.clusters.forEach((c, i) => {
    check(c.healthCheck?.check, `clusters[${i}].healthCheck.check`);
    c.endpoints.forEach((e, j) => check(e.healthCheck?.check, `clusters[${i}].endpoints[${j}].healthCheck.check`));
    c.dependencies.forEach((d, j) => check(d.check, `clusters[${i}].dependencies[${j}].check`));
  });
  return issues;
}
