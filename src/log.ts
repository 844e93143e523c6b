import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * JSON logs by default, human-readable when stdout is a terminal (or HEALTHMESH_LOG_PRETTY=1);
 * tokens and authorization headers are redacted wherever they appear.
 */
export function createLogger(level: LevelWithSilent = 'info', destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { app: 'healthmesh' },
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization'], censor: '[redacted]' },
  };
  if (destination) return pino(options, destination as unknown as pino.DestinationStream);
  const wantPretty = process.env.HEALTHMESH_LOG_PRETTY ? process.env.HEALTHMESH_LOG_PRETTY === '1' : process.stdout.isTTY === true;
  return wantPretty ? pino(options, pretty({ colorize: true, ignore: 'pid,hostname,app', translateTime: 'HH:MM:ss.l' })) : pino(options);
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
