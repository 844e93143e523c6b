/**
 * ads-cost section: what healthmesh's own ADS code costs per stream, without gRPC.
 *
 * Runs `bench/ads-session-fanout.ts` in a fresh process per protocol: N streams (default 1,000; quick: 200) through
 * AdsService → AdsSession → AdsState, the ledger, the response encoder and the request decoder, with grpc-js
 * replaced by an in-memory call; then one-endpoint changes, each pushed to every stream and ACKed. Prints the time
 * spent in healthmesh's code per stream and change (push and ACK; best of 5 rounds) and per stream for the initial
 * sync (cold code: the first N streams of the process). What grpc-js and Node's HTTP/2 add is measured by the peer
 * harness and `bench/bare-grpc-ads.ts` (README, Benchmarks).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { table } from '../lib/stats.js';
import type { Section, SectionContext, SectionResult } from './types.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Cost {
  protocol: string;
  streams: number;
  changes: number;
  usPerStreamPerChange: number;
  usPushPerStream: number;
  usAckPerStream: number;
  responsesPerChange: number;
  usSyncPerStream: number;
  usSyncPerStreamSecondHalf: number;
}

async function measure(protocol: string, streams: number, changes: number): Promise<Cost> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'bench/ads-session-fanout.ts', String(streams), String(changes), protocol],
    {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '' },
      maxBuffer: 1 << 20,
    },
  );
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Cost;
}

export const adsCostSection: Section = {
  name: 'ads-cost',
  description: "healthmesh's own ADS code per stream and change (push, ACK) and per stream at sync, without gRPC",
  async run(ctx: SectionContext): Promise<SectionResult> {
    const streams = Number(ctx.options.streams ?? (ctx.quick ? 200 : 1000));
    const changes = ctx.quick ? 50 : 200;
    const rows: Cost[] = [];
    for (const protocol of ['sotw', 'delta']) {
      ctx.log(`ads-cost: ${protocol}, ${streams} streams, ${changes} changes × 5 rounds`);
      rows.push(await measure(protocol, streams, changes));
    }
    const ok = rows.every((r) => Math.round(r.responsesPerChange) === r.streams);
    const f = (x: number) => x.toFixed(2);
    return {
      ok,
      data: { streams, changes, rows },
      table: table(
        [['protocol', 'streams', 'µs per stream and change', 'push', 'ACK', 'sync µs per stream (cold)', 'sync, second half']],
        rows.map((r) => [
          r.protocol,
          String(r.streams),
          f(r.usPerStreamPerChange),
          f(r.usPushPerStream),
          f(r.usAckPerStream),
          r.usSyncPerStream.toFixed(1),
          r.usSyncPerStreamSecondHalf.toFixed(1),
        ]),
      ),
    };
  },
};
