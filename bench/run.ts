/**
 * healthmesh benchmarks: `npm run bench [-- --quick] [-- --only xds]`.
 *
 * Runs the selected sections (bench/sections/*) in order, prints each one's table to stdout (progress goes to
 * stderr), and writes bench/results/<section>-<timestamp>.json and <section>-latest.json.
 *
 * The script re-executes itself as `node --expose-gc --import tsx bench/run.ts …` when gc() is not exposed, so
 * that memory figures are taken after a full GC.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Command } from 'commander';
import { gcAvailable } from './lib/stats.js';
import { sections } from './sections/index.js';
import type { SectionResult } from './sections/types.js';

const REEXEC_ENV = 'HEALTHMESH_BENCH_REEXEC';

async function reexecWithGc(): Promise<number> {
  const script = fileURLToPath(import.meta.url);
  const args = ['--expose-gc', '--import', import.meta.resolve('tsx'), script, ...process.argv.slice(2)];
  const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, [REEXEC_ENV]: '1' } });
  const forward = (sig: NodeJS.Signals): void => {
    child.kill(sig);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', (err) => {
      console.error(`bench: cannot re-run with --expose-gc (${err.message}); continuing without forced GC`);
      resolve(-1);
    });
  });
}

async function main(): Promise<number> {
  const program = new Command('bench')
    .description('healthmesh benchmarks')
    .option('--quick', 'smoke run: small sizes (xds: N=50)', false)
    .option('--only <sections>', `comma-separated sections to run (${sections.map((s) => s.name).join(', ')})`)
    .option('--list', 'list sections and exit', false)
    .option('--results-dir <dir>', 'where to write JSON results', fileURLToPath(new URL('./results/', import.meta.url)))
    .option('--no-write', 'do not write JSON results')
    // xds section
    .option('--streams <list>', 'xds: comma-separated stream counts (default 100,1000; --quick 50)')
    .option('--modes <list>', 'xds: sotw,delta (default both)')
    .option('--changes <n>', 'xds: number of one-endpoint changes (default 20)')
    .option('--debounce-ms <ms>', 'xds: xds.debounceMs of the benchmarked control plane (default 50)')
    .parse();
  const o = program.opts<{
    quick: boolean;
    only?: string;
    list: boolean;
    resultsDir: string;
    write: boolean;
    streams?: string;
    modes?: string;
    changes?: string;
    debounceMs?: string;
  }>();

  if (o.list) {
    for (const s of sections) console.log(`${s.name.padEnd(10)} ${s.description}`);
    return 0;
  }
  const wanted = o.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = wanted?.filter((w) => !sections.some((s) => s.name === w)) ?? [];
  if (unknown.length) {
    console.error(`bench: unknown section(s) ${unknown.join(', ')}; known: ${sections.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const selected = wanted ? sections.filter((s) => wanted.includes(s.name)) : sections;
  if (!gcAvailable) console.error('bench: gc() not exposed; memory figures are taken without a forced GC');

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  let ok = true;
  const t0 = Date.now();
  for (const section of selected) {
    const log = (msg: string): void => {
      console.error(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}`);
    };
    log(`section ${section.name}: ${section.description}`);
    let result: SectionResult;
    try {
      result = await section.run({ quick: o.quick, log, options: { streams: o.streams, modes: o.modes, changes: o.changes, debounceMs: o.debounceMs } });
    } catch (err) {
      console.error(`bench: section ${section.name} failed: ${(err as Error).stack ?? String(err)}`);
      ok = false;
      continue;
    }
    ok &&= result.ok;
    console.log(`\n== ${section.name} ==\n${result.table}\n`);
    if (o.write) {
      mkdirSync(o.resultsDir, { recursive: true });
      const json = JSON.stringify({ ...result.data, ok: result.ok, quick: o.quick, argv: process.argv.slice(2) }, null, 2);
      const file = path.join(o.resultsDir, `${section.name}-${stamp}.json`);
      writeFileSync(file, json);
      writeFileSync(path.join(o.resultsDir, `${section.name}-latest.json`), json);
      log(`wrote ${path.relative(process.cwd(), file)}`);
    }
  }
  log0(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s${ok ? '' : ' (with failures)'}`);
  return ok ? 0 : 1;
}

function log0(msg: string): void {
  console.error(`bench: ${msg}`);
}

const code = !gcAvailable && !process.env[REEXEC_ENV] ? await reexecWithGc() : -1;
if (code >= 0) {
  process.exitCode = code;
} else {
  process.exitCode = await main();
  // Lingering handles (grpc channels, timers) must not keep the process alive after the results are out.
  setTimeout(() => process.exit(), 1000).unref();
}
