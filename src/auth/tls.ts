/** Server credentials of the gRPC port: insecure, TLS, or mTLS (client certificates checked against clientCa). */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import { InvalidArgumentError } from '../errors.js';
import type { XdsTlsConfig } from '../config/security-schema.js';
import type { Logger } from '../log.js';

/** Reads the PEM files (validated at config load) and builds the credentials. */
export function serverCredentials(tls: XdsTlsConfig | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const ca = tls.clientCa ? readFileSync(tls.clientCa) : null;
  return ServerCredentials.createSsl(ca, [{ private_key: readFileSync(tls.key), cert_chain: readFileSync(tls.cert) }], ca !== null);
}

/** Whether a `host:port` listen address binds loopback only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackListen(listen: string): boolean {
  const host = listen
    .slice(0, listen.lastIndexOf(':'))
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Client TLS flags of the CLI (`--tls-ca`, and for mTLS `--tls-cert` + `--tls-key`). */
export interface ClientTlsFiles {
  tlsCa?: string | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
}

/** TLS (CA only) or mTLS (CA, certificate and key) channel credentials; undefined when no flag is given (plaintext). */
export function clientCredentials(opts: ClientTlsFiles): ChannelCredentials | undefined {
  if (!opts.tlsCa && !opts.tlsCert && !opts.tlsKey) return undefined;
  if (!opts.tlsCa) throw new InvalidArgumentError('--tls-ca', 'needed with --tls-cert / --tls-key');
  if (!opts.tlsCert !== !opts.tlsKey) throw new InvalidArgumentError(opts.tlsCert ? '--tls-key' : '--tls-cert', 'mTLS needs both --tls-cert and --tls-key');
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new InvalidArgumentError(flag, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  return ChannelCredentials.createSsl(
    read('--tls-ca', opts.tlsCa),
    opts.tlsKey ? read('--tls-key', opts.tlsKey) : null,
    opts.tlsCert ? read('--tls-cert', opts.tlsCert) : null,
  );
}

/** Warns (naming the risk) when a gRPC port listens beyond loopback without TLS. */
export function warnIfExposedPlaintext(listen: string, tls: XdsTlsConfig | undefined, logger: Logger, port = 'the gRPC port'): void {
  if (tls || isLoopbackListen(listen)) return;
  logger.warn(
    { address: listen },
    `${port} listens beyond loopback without TLS: bearer tokens, xDS config and health data cross the network in clear text, and any host that can reach it can read status and Watch streams; set xds.tls (cert, key, clientCa for mTLS) or bind 127.0.0.1`,
  );
}
