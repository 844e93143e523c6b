// Fake upstreams on 127.0.0.1: HTTP backends with failure controls, and gRPC Echo backends.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { HealthImplementation } from 'grpc-health-check';

export interface Backend {
  name: string;
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  /** Requests received on any path except /healthz. */
  readonly requests: number;
  /** Requests received on /healthz. */
  readonly healthChecks: number;
  /** Status for every path except /healthz (default 200). */
  setStatus(code: number): void;
  /** Delay before answering, on every path including /healthz (default 0). */
  setDelay(ms: number): void;
  /** Accept requests (every path) but never answer them while true. */
  setHang(hang: boolean): void;
  /** Status for GET /healthz only (default 200). */
  setHealthStatus(code: number): void;
  /** /healthz answers cycle through these codes, one per check (empty: back to setHealthStatus). */
  setHealthPattern(codes: number[]): void;
  close(): Promise<void>;
}

export interface HttpBackendOptions {
  /** Names are `${prefix}1..${prefix}n`; default prefix `b`. */
  prefix?: string;
}

async function startHttpBackend(name: string): Promise<Backend> {
  let status = 200;
  let healthStatus = 200;
  let delay = 0;
  let hang = false;
  let requests = 0;
  let healthChecks = 0;
  let pattern: number[] = [];
  let patternAt = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const isHealth = (req.url ?? '').split('?')[0] === '/healthz';
    if (isHealth) healthChecks++;
    else requests++;
    req.resume();
    if (hang) return;
    const code = isHealth ? (pattern.length > 0 ? (pattern[patternAt++ % pattern.length] as number) : healthStatus) : status;
    const answer = () => {
      if (res.destroyed) return;
      res.writeHead(code, { 'content-type': 'text/plain', 'x-backend': name });
      res.end(name);
    };
    if (delay > 0) setTimeout(answer, delay);
    else answer();
  });
  // Never close idle keep-alive connections ourselves: a server-side idle close racing
  // with Envoy reusing the connection shows up as spurious 503s in share counts.
  server.keepAliveTimeout = 0;
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    get healthChecks() {
      return healthChecks;
    },
    setStatus: (code) => void (status = code),
    setDelay: (ms) => void (delay = ms),
    setHang: (h) => void (hang = h),
    setHealthStatus: (code) => void (healthStatus = code),
    setHealthPattern: (codes) => {
      pattern = [...codes];
      patternAt = 0;
    },
    close() {
      closing ??= new Promise<void>((res) => {
        server.close(() => res());
        server.closeAllConnections(); // includes hung requests and idle keep-alives
      });
      return closing;
    },
  };
}

/** Starts n HTTP servers on 127.0.0.1:0 named b1..bn; any path answers with body = name and `x-backend: name`. */
export async function startHttpBackends(n: number, opts: HttpBackendOptions = {}): Promise<Backend[]> {
  const prefix = opts.prefix ?? 'b';
  return Promise.all(Array.from({ length: n }, (_, i) => startHttpBackend(`${prefix}${i + 1}`)));
}

// ---- gRPC ----

const ECHO_PROTO = resolve(fileURLToPath(import.meta.url), '../../fixtures/echo.proto');

export interface WhoRequest {
  payload?: string;
}
export interface WhoReply {
  backend: string;
  payload: string;
}

let echoCtor: grpc.ServiceClientConstructor | undefined;

/** The generated client constructor for healthmesh.test.Echo (from test/fixtures/echo.proto). */
export function echoClientCtor(): grpc.ServiceClientConstructor {
  if (!echoCtor) {
    const def = protoLoader.loadSync(ECHO_PROTO, { keepCase: true, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      healthmesh: { test: { Echo: grpc.ServiceClientConstructor } };
    };
    echoCtor = pkg.healthmesh.test.Echo;
  }
  return echoCtor;
}

export interface GrpcBackend {
  name: string;
  port: number;
  /** 127.0.0.1:<port> */
  address: string;
  /** Who calls received. */
  readonly requests: number;
  /** What its grpc.health.v1 service answers for the service "" (default SERVING). */
  setServing(serving: boolean): void;
  close(): Promise<void>;
}

async function startGrpcBackend(name: string): Promise<GrpcBackend> {
  let requests = 0;
  const server = new grpc.Server();
  server.addService(echoClientCtor().service, {
    Who(call: grpc.ServerUnaryCall<WhoRequest, WhoReply>, cb: grpc.sendUnaryData<WhoReply>) {
      requests++;
      cb(null, { backend: name, payload: call.request.payload ?? '' });
    },
  });
  const health = new HealthImplementation({ '': 'SERVING' });
  health.addToServer(server);
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p))),
  );
  let closing: Promise<void> | undefined;
  return {
    name,
    port,
    address: `127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    setServing: (serving) => health.setStatus('', serving ? 'SERVING' : 'NOT_SERVING'),
    close() {
      closing ??= new Promise<void>((res) => {
        server.forceShutdown();
        res();
      });
      return closing;
    },
  };
}

/** Starts n insecure gRPC Echo servers on 127.0.0.1:0 named g1..gn (prefix configurable). */
export async function startGrpcBackends(n: number, opts: { prefix?: string } = {}): Promise<GrpcBackend[]> {
  const prefix = opts.prefix ?? 'g';
  return Promise.all(Array.from({ length: n }, (_, i) => startGrpcBackend(`${prefix}${i + 1}`)));
}
