/**
 * Regenerates src/generated/ (`npm run gen:proto`, run with tsx; `-- --out DIR` writes elsewhere, which
 * test/unit/generated-types.test.ts uses to check that src/generated is up to date): TypeScript types for our own API
 * (proto/healthmesh/v1) and for the Envoy messages we decode, send or build, with
 * proto-loader-gen-types from @grpc/proto-loader (as @grpc/grpc-js-xds generates its own).
 * The Envoy protos are read from @grpc/grpc-js-xds's deps/, never copied here. Each run's options
 * match how the code decodes those messages, so the `__Output` types say what a handler receives:
 * - healthmesh.v1: src/status/proto.ts and src/signals/agent-proto.ts load with keepCase, longs
 *   Number, enums String, defaults, oneofs, arrays.
 * - Envoy: the ADS and LRS decoders (src/xds/wire.ts, src/signals/lrs-proto.ts) use keepCase,
 *   enums String, no defaults, no oneofs; longs Number (LRS counters; ADS requests carry no 64-bit
 *   field). Generated without --arrays although the decoders fill repeated fields: every field is
 *   then optional, which also describes the LRS decoder's node (only its id is read) and lets `{}`
 *   stand for an absent Node.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROTO_FILES, protoIncludeDirs } from '../src/xds/protos.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : undefined;
const out = outArg ? resolve(outArg) : join(repo, 'src/generated');
const require = createRequire(import.meta.url);
const bin = join(dirname(require.resolve('@grpc/proto-loader/package.json')), 'build/bin/proto-loader-gen-types.js');
/** The include paths the xDS layer loads its Envoy protos with, relative (they appear in the generated headers). */
const envoyIncludes = protoIncludeDirs().map((d) => relative(repo, d));

const common = ['--keepCase', '--longs', 'Number', '--enums', 'String', '--grpcLib', '@grpc/grpc-js', '--importFileExtension', '.js', '-O', out];

const runs = [
  {
    what: 'healthmesh.v1',
    args: ['-I', 'proto', ...common, '--arrays', '--defaults', '--oneofs', '--includeComments', 'healthmesh/v1/status.proto', 'healthmesh/v1/agent.proto'],
  },
  {
    what: 'Envoy',
    args: [
      // -I takes every value up to the next option: the files come after -O (the last of `common`).
      ...envoyIncludes.flatMap((d) => ['-I', d]),
      ...common,
      ...PROTO_FILES,
    ],
  },
];

rmSync(out, { recursive: true, force: true });
for (const run of runs) {
  const r = spawnSync(process.execPath, [bin, ...run.args], { cwd: repo, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`gen-proto: proto-loader-gen-types failed for ${run.what} (exit ${r.status ?? r.signal ?? 'unknown'})`);
    process.exit(1);
  }
}
// Headers name each file's .proto by its path from here: keep only the part from node_modules/ on, so the
// output does not depend on where the checkout or its node_modules live.
for (const f of readdirSync(out, { recursive: true, withFileTypes: true })) {
  if (!f.isFile()) continue;
  const path = join(f.parentPath, f.name);
  const text = readFileSync(path, 'utf8');
  const fixed = text.replace(/^\/\/ Original file: .*?(node_modules\/)/gm, '// Original file: $1');
  if (fixed !== text) writeFileSync(path, fixed);
}
console.log(`gen-proto: wrote ${relative(repo, out)}/`);
