import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** JSON logs by default; tokens and secrets are redacted wherever they appear. */
export function createLogger(level: LevelWithSilent = 'info', destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { app: 'healthmesh' },
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization'], censor: '[redacted]' },
  };
  return destination ? pino(options, destination as unknown as pino.DestinationStream) : pino(options);
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
