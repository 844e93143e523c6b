import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { fileIssues } from './file-rules.js';
import { configSchema, type Config } from './schema.js';
import { redactAt } from './redact.js';

/** A config file larger than this is refused before it is read. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** YAML aliases resolved at most (an alias bomb expands exponentially). */
export const MAX_YAML_ALIASES = 1000;

export interface ValidateOptions {
  /** Relative paths in the config (custom check modules) are resolved, and must exist, here. */
  baseDir?: string;
}

/**
 * Read, parse and validate a YAML config file: everything `serve` (and a SIGHUP reload) needs is
 * checked here, so a file this accepts is one serve accepts. Throws ConfigError naming file, field
 * path and value.
 */
export function loadConfigFile(file: string): Readonly<Config> {
  return parseConfigText(readConfigText(file), file, { baseDir: dirname(resolve(file)) });
}

function readConfigText(file: string): string {
  const unreadable = (message: string): ConfigError => new ConfigError(file, [{ path: '', message }]);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw unreadable(`cannot read file: ${(err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw unreadable('not a regular file');
    if (st.size > MAX_CONFIG_BYTES) throw unreadable(`file is ${st.size} bytes, more than the ${MAX_CONFIG_BYTES} bytes a config may have`);
    const text = readFileSync(fd, 'utf8');
    // The file may have grown between fstat and read.
    if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) throw unreadable(`file is more than the ${MAX_CONFIG_BYTES} bytes a config may have`);
    return text;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw unreadable(`cannot read file: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

export function parseConfigText(text: string, file = '<inline>', opts: ValidateOptions = {}): Readonly<Config> {
  if (text.length > MAX_CONFIG_BYTES) throw new ConfigError(file, [{ path: '', message: `more than the ${MAX_CONFIG_BYTES} bytes a config may have` }]);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
        message: e.message.split('\n')[0] ?? e.message,
      })),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    // The yaml library throws a ReferenceError for an excessive or unresolved alias.
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
    throw new ConfigError(file, [{ path: '', message: `YAML cannot be expanded: ${message} (at most ${MAX_YAML_ALIASES} alias expansions)` }]);
  }
  return validateConfig(raw ?? {}, file, opts);
}

export function validateConfig(raw: unknown, file = '<inline>', opts: ValidateOptions = {}): Readonly<Config> {
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(file, toIssues(result.error, raw));
  if (opts.baseDir !== undefined) {
    const issues = fileIssues(result.data, opts.baseDir);
    if (issues.length > 0) throw new ConfigError(file, issues);
  }
  return deepFreeze(result.data);
}

function toIssues(error: z.ZodError, raw: unknown): ConfigIssue[] {
  return error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const fullPath = keys.length === 1 ? [...issue.path, keys[0] as string] : issue.path;
    const path = formatPath(fullPath);
    const value = redactAt(fullPath, valueAt(raw, fullPath));
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
