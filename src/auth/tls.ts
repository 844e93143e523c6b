/** Server credentials of the gRPC port: insecure, TLS, or mTLS (client certificates checked against clientCa). */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ServerCredentials } from '@grpc/grpc-js';
import type { XdsTlsConfig } from '../config/security-schema.js';

/** Reads the PEM files (validated at config load) and builds the credentials. */
export function serverCredentials(tls: XdsTlsConfig | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const ca = tls.clientCa ? readFileSync(tls.clientCa) : null;
  return ServerCredentials.createSsl(ca, [{ private_key: readFileSync(tls.key), cert_chain: readFileSync(tls.cert) }], ca !== null);
}

/** Whether a `host:port` listen address binds loopback only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackListen(listen: string): boolean {
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}
