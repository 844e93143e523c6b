/**
 * `healthmesh report`: a report from a running healthmesh's admin endpoint (default), or built
 * offline from its SQLite store file (`--store`), written to a file (`-o`, atomically) or stdout.
 *
 *   healthmesh report --type summary --format html -o summary.html
 *   healthmesh report --type trends --format md --from 2026-11-24T00:00Z --cluster web
 *   healthmesh report --type detailed --format xlsx --store data/healthmesh.db -o detailed.xlsx
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, InvalidArgumentError as OptionError } from 'commander';
import { HealthmeshError } from '../errors.js';
import { REPORT_FORMATS, REPORT_TYPES, type ReportFormat, type ReportType } from '../reports/model.js';
import { parseCluster, parseFormat, parseTime, parseType, resolveRange } from '../reports/query.js';

const DEFAULT_ADMIN = 'http://127.0.0.1:9090';
const DEFAULT_TIMEOUT_MS = 120_000;

export interface ReportCommandOptions {
  type: ReportType;
  format: ReportFormat;
  from?: string | undefined;
  to?: string | undefined;
  cluster?: string | undefined;
  table?: string | undefined;
  output?: string | undefined;
  admin: string;
  store?: string | undefined;
  timeoutMs: number;
}

/** A failure worth one clear line (exit code 1). */
class CliFailure extends Error {}

const option =
  <T>(parse: (v: string) => T) =>
  (raw: string): T => {
    try {
      return parse(raw);
    } catch (err) {
      throw new OptionError(err instanceof HealthmeshError ? err.message.replace(/^[a-z]+: /, '') : String(err));
    }
  };

/** Keeps the text as given (the admin endpoint parses it again) once it is known to parse. */
function checkedTime(raw: string, field: string): string {
  parseTime(raw, field);
  return raw;
}

function parseAdmin(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OptionError(`expected a URL like ${DEFAULT_ADMIN}, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OptionError(`must be http:// or https://, got "${raw}"`);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

function parseTimeout(raw: string): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 100 && n <= 3_600_000)) throw new OptionError(`must be 100..3600000 ms, got "${raw}"`);
  return n;
}

/** The admin's JSON error `{ error: { code, message, field } }` as one line. */
async function adminError(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { message?: string } };
    if (body.error?.message) return `${res.status}: ${body.error.message}`;
  } catch {
    // not JSON
  }
  return `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
}

async function fromAdmin(o: ReportCommandOptions, range: { from: number; to: number }): Promise<Readable> {
  const params = new URLSearchParams({ format: o.format, from: String(range.from), to: String(range.to) });
  if (o.cluster) params.set('cluster', o.cluster);
  if (o.table) params.set('table', o.table);
  const url = `${o.admin}/reports/${o.type}?${params.toString()}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(o.timeoutMs) });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${o.timeoutMs} ms` : (e.cause?.code ?? e.message);
    throw new CliFailure(`cannot reach the admin endpoint ${o.admin} (${why}); is healthmesh running with admin enabled, or use --store FILE`);
  }
  if (!res.ok) throw new CliFailure(await adminError(res));
  if (!res.body) throw new CliFailure('empty answer from the admin endpoint');
  return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
}

async function fromStore(o: ReportCommandOptions & { store: string }, range: { from: number; to: number }): Promise<Readable> {
  if (!existsSync(o.store)) throw new CliFailure(`no store file at ${o.store}`);
  // Offline reports only: `healthmesh serve` (which shares this CLI) does not load the store and renderers for them.
  const [{ openSqliteStore }, { buildReport }, { renderReport }] = await Promise.all([
    import('../store/index.js'),
    import('../reports/build.js'),
    import('../reports/render/index.js'),
  ]);
  const store = openSqliteStore(o.store);
  try {
    const report = await buildReport({ store }, o.type, { from: range.from, to: range.to, cluster: o.cluster });
    // The model is complete: rendering (streamed) no longer needs the store.
    return renderReport(report, o.format, { table: o.table }).body;
  } finally {
    store.close();
  }
}

/** Writes to `path` through a temporary file in the same directory, renamed when complete. */
async function writeFileAtomically(body: Readable, path: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await pipeline(body, createWriteStream(temp, { flags: 'wx' }));
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Runs the command (exported for tests); rejects with a message fit for the user. */
export async function runReport(o: ReportCommandOptions, out: Writable = process.stdout): Promise<void> {
  if (o.table !== undefined && o.format !== 'csv') throw new CliFailure('--table applies to --format csv only');
  if (o.output === undefined && o.format === 'xlsx' && out === process.stdout && process.stdout.isTTY)
    throw new CliFailure('xlsx is binary: write it to a file with -o FILE');
  const range = resolveRange({ from: o.from, to: o.to }, Date.now());
  const body = o.store !== undefined ? await fromStore({ ...o, store: o.store }, range) : await fromAdmin(o, range);
  if (o.output !== undefined) await writeFileAtomically(body, o.output);
  else await pipeline(body, out, { end: false });
}

export function reportCommand(): Command {
  return new Command('report')
    .description('write a report (summary, detailed, metrics, alerts, trends) as json, html, csv, md or xlsx')
    .requiredOption(
      '--type <type>',
      `one of ${REPORT_TYPES.join(', ')}`,
      option((v) => parseType(v)),
    )
    .option(
      '--format <format>',
      `one of ${REPORT_FORMATS.join(', ')}`,
      option((v) => parseFormat(v)),
      'json',
    )
    .option(
      '--from <time>',
      'start: ISO 8601 or ms since the epoch (default: --to minus 24 h)',
      option((v) => checkedTime(v, 'from')),
    )
    .option(
      '--to <time>',
      'end: ISO 8601 or ms since the epoch (default: now)',
      option((v) => checkedTime(v, 'to')),
    )
    .option(
      '--cluster <name>',
      'only this cluster',
      option((v) => parseCluster(v)),
    )
    .option('--table <id>', 'csv only: which table (default: the primary one; GET /reports lists them)')
    .option('-o, --output <file>', 'write to this file (atomically) instead of stdout')
    .option('--admin <url>', 'admin endpoint of a running healthmesh', parseAdmin, DEFAULT_ADMIN)
    .option('--store <file>', 'build offline from this SQLite store file (e.g. data/healthmesh.db) instead of asking --admin')
    .option('--timeout-ms <ms>', 'give up on the admin endpoint after this long', parseTimeout, DEFAULT_TIMEOUT_MS)
    .action(async (opts: ReportCommandOptions) => {
      try {
        await runReport(opts);
      } catch (err) {
        const msg = err instanceof CliFailure || err instanceof HealthmeshError ? err.message : ((err as Error).stack ?? String(err));
        process.stderr.write(`healthmesh report: ${msg}\n`);
        process.exitCode = 1;
      }
    });
}
