import { loadConfigFile } from './config/load.js';
import type { Config } from './config/schema.js';
import { createControlPlane, type ControlPlane } from './controlplane.js';
import { ConfigError } from './errors.js';
import { createLogger, type Logger } from './log.js';

export interface RunningServer {
  controlPlane: ControlPlane;
  xdsPort: number;
  stop(): Promise<void>;
}

/** Composition root for `healthmesh serve`: load config, build, start, reload on SIGHUP, drain on SIGTERM. */
export async function serve(configFile: string, logger?: Logger): Promise<RunningServer> {
  const config: Readonly<Config> = loadConfigFile(configFile);
  const log = logger ?? createLogger(config.log.level);
  const controlPlane = createControlPlane(config, { logger: log });
  const { port } = await controlPlane.start();

  const onHup = (): void => {
    try {
      const next = loadConfigFile(configFile);
      controlPlane.reload(next);
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
      await controlPlane.stop();
      log.info('stopped');
    })();
    return stopping;
  };
  return { controlPlane, xdsPort: port, stop };
}
