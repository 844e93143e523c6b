import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';
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
  return wantPretty ? pino(options, pretty({ colorize: true, ignore: 'pid,hostname,app', translateTime: 'HH:MM:ss.l' })) : pino(options);
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
