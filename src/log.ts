import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type PinoPretty from 'pino-pretty';
import { LOG_REDACT } from './config/redact.js';

export type { Logger };

/**
 * JSON logs by default, human-readable when stdout is a terminal (or HEALTHMESH_LOG_PRETTY=1);
 * tokens, authorization and check headers and webhook URLs are redacted (config/redact.ts).
 */
export function createLogger(level: LevelWithSilent = 'info', destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { app: 'healthmesh' },
    redact: { paths: [...LOG_REDACT.paths], censor: LOG_REDACT.censor },
  };
  if (destination) return pino(options, destination as unknown as pino.DestinationStream);
  const wantPretty = process.env.HEALTHMESH_LOG_PRETTY ? process.env.HEALTHMESH_LOG_PRETTY === '1' : process.stdout.isTTY === true;
  if (!wantPretty) return pino(options);
  // Loaded only for a terminal: it is ~5 MiB a server writing JSON does not need.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  return pino(options, pretty({ colorize: true, ignore: 'pid,hostname,app', translateTime: 'HH:MM:ss.l' }));
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
