import { loadConfigFile } from './config/load.js';
import type { Config } from './config/schema.js';
import { dirname, resolve } from 'node:path';
import { createHealthmesh, type Healthmesh } from './app.js';
import { ConfigError } from './errors.js';
import { createLogger, type Logger } from './log.js';

export interface RunningServer {
  app: Healthmesh;
  xdsPort: number;
  stop(): Promise<void>;
}

/** Composition root for `healthmesh serve`: load config, build, start, reload on SIGHUP, drain on SIGTERM. */
export async function serve(configFile: string, logger?: Logger): Promise<RunningServer> {
  const config: Readonly<Config> = loadConfigFile(configFile);
  const log = logger ?? createLogger(config.log.level);
  const app = createHealthmesh(config, { logger: log, configDir: dirname(resolve(configFile)) });
  const { xdsPort } = await app.start();

  const onHup = (): void => {
    try {
      const next = loadConfigFile(configFile);
      app.reload(next);
      log.info({ file: configFile }, 'configuration reloaded');
    } catch (err) {
      const detail = err instanceof ConfigError ? err.message : (err as Error).message;
      log.error({ file: configFile, error: detail }, 'new configuration refused; keeping the previous one');
    }
  };
  process.on('SIGHUP', onHup);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off('SIGHUP', onHup);
      await app.stop();
      log.info('stopped');
    })();
    return stopping;
  };
  return { app, xdsPort, stop };
}
