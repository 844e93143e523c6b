import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { AlertRecord } from '../../src/operations.js';
import { createStatusClient, type StatusClient, type WatchEventWire } from '../../src/status/proto.js';
import { StatusService } from '../../src/status/service.js';
import { testAuthenticator } from '../support/auth.js';
import { FakeOperations } from '../support/fake-operations.js';
import { waitFor } from '../support/wait.js';

/** Watch caps (issue 10, finding 5): a bounded number of streams, and a bounded backlog across all of them. */
const T0 = 1_700_000_000_000;
const MAX_WATCHERS = 3;
const TOTAL_BYTES = 64 * 1024;

let ops: FakeOperations;
let service: StatusService;
let server: grpc.Server;
let target: string;
const clients: StatusClient[] = [];

/** A client on its own connection, so a paused one is stalled only by its own HTTP/2 windows. */
function client(): StatusClient {
  const c = createStatusClient(target, { 'grpc.use_local_subchannel_pool': 1 });
  clients.push(c);
  return c;
}

function watch(c: StatusClient) {
  const events: WatchEventWire[] = [];
  const stream = c.Watch({});
  const state: { error?: grpc.ServiceError } = {};
  const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
    stream.on('error', (err: grpc.ServiceError) => resolve((state.error = err)));
    stream.on('end', () => resolve(undefined));
  });
  stream.on('data', (ev: WatchEventWire) => events.push(ev));
  return { stream, events, state, ended, synced: () => events.some((e) => e.event === 'synced') };
}

const alert = (id: string, message: string): AlertRecord => ({
  id,
  rule: 'endpointUnhealthy',
  level: 'warning',
  subject: 'demo/127.0.0.1:9101',
  cluster: 'demo',
  message,
  state: 'firing',
  firedAt: T0,
  lastSeenAt: T0,
  count: 1,
});

beforeAll(async () => {
  ops = new FakeOperations({ clusters: ['demo'], now: () => T0 });
  ops.seed({ cluster: 'demo', address: '127.0.0.1', port: 9101 });
  server = new grpc.Server();
  // A per-stream backlog far above what the total allows: only the shared budget can close a stream here.
  service = new StatusService({
    ops,
    logger: silentLogger(),
    config: { historyLimit: 10, maxWatchers: MAX_WATCHERS, watchBacklog: 1_000_000, maxWatchBacklogBytes: TOTAL_BYTES },
    auth: testAuthenticator(),
  });
  service.register(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  target = `127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const c of clients) c.close();
  service?.stop();
  server?.forceShutdown();
});

describe('Watch limits', () => {
  it(`refuses Watch number ${MAX_WATCHERS + 1} with RESOURCE_EXHAUSTED, and accepts again once one closes`, async () => {
    const c = client();
    const open = Array.from({ length: MAX_WATCHERS }, () => watch(c));
    await waitFor(() => open.every((w) => w.synced()), { timeoutMs: 5000, what: 'the first watches to sync' });
    const extra = watch(c);
    const err = await extra.ended;
    expect({ code: err?.code, details: err?.details }).toEqual({
      code: grpc.status.RESOURCE_EXHAUSTED,
      details: `watch: ${MAX_WATCHERS} Watch streams are open already (status.maxWatchers); try again later`,
    });
    expect(service.activeWatches).toBe(MAX_WATCHERS);
    open[0]!.stream.cancel();
    await waitFor(() => service.activeWatches === MAX_WATCHERS - 1, { timeoutMs: 5000, what: 'the cancelled watch to be forgotten' });
    const again = watch(c);
    await waitFor(() => again.synced(), { timeoutMs: 5000, what: 'a new watch once there is room' });
    for (const w of [again, ...open.slice(1)]) w.stream.cancel();
    await waitFor(() => service.activeWatches === 0, { timeoutMs: 5000, what: 'every watch to close' });
  });

  it('closes the watchers that never read once their total backlog passes maxWatchBacklogBytes; a reader keeps up', async () => {
    const reader = watch(client());
    const stalled = [watch(client()), watch(client())];
    for (const s of stalled) s.stream.pause();
    await waitFor(() => service.activeWatches === 3 && reader.synced(), { timeoutMs: 5000, what: 'three watches open' });
    const message = 'x'.repeat(3000);
    const alerts = () => reader.events.filter((e) => e.event === 'alert').length;
    let sent = 0;
    // Distinct alerts cannot coalesce. Each batch waits until the reader has it all, so it is never behind.
    while (service.activeWatches > 1 && sent < 5000) {
      for (let i = 0; i < 4; i++, sent++) ops.emit({ kind: 'alert', at: T0, alert: alert(`flood-${sent}`, message) });
      await waitFor(() => alerts() === sent, { timeoutMs: 10_000, intervalMs: 1, what: `the reader to get all ${sent} alerts` });
      expect(service.watchBacklogBytes).toBeLessThanOrEqual(TOTAL_BYTES);
    }
    expect(service.activeWatches).toBe(1);
    expect(reader.state.error).toBeUndefined();
    for (const s of stalled) {
      s.stream.resume();
      const err = await s.ended;
      expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(err?.details).toMatch(/status\.maxWatchBacklogBytes/);
    }
    // Far fewer events than the per-stream backlog (1,000,000) were queued: the total cap did it.
    expect(sent).toBeLessThan(5000);
    expect(service.watchBacklogBytes).toBeLessThan(TOTAL_BYTES);
    reader.stream.cancel();
    await waitFor(() => service.activeWatches === 0 && service.watchBacklogBytes === 0, {
      timeoutMs: 5000,
      what: 'every watch closed and its backlog released',
    });
  });
});
