import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { configSchema, type Config } from './schema.js';

/** Read, parse and validate a YAML config file. Throws ConfigError naming file, field path and value. */
export function loadConfigFile(file: string): Readonly<Config> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file = '<inline>'): Readonly<Config> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '', message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  return validateConfig(doc.toJS() ?? {}, file);
}

export function validateConfig(raw: unknown, file = '<inline>'): Readonly<Config> {
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(file, toIssues(result.error, raw));
  return deepFreeze(result.data);
}

function toIssues(error: z.ZodError, raw: unknown): ConfigIssue[] {
  return error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const fullPath = keys.length === 1 ? [...issue.path, keys[0] as string] : issue.path;
    const path = formatPath(fullPath);
    const value = valueAt(raw, fullPath);
    const expected = 'expected' in issue && issue.expected && !issue.message.includes('expected') ? ` (expected ${String(issue.expected)})` : '';
    return { path, message: `${issue.message}${expected}`, ...(value === undefined ? {} : { value }) };
  });
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
