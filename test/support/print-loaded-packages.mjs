// Preload for a child process (`node --import <this file> ...`): on SIGUSR2 it prints one line,
// `loaded-packages: <json array>`, naming every npm package whose CommonJS modules are loaded.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
process.on('SIGUSR2', () => {
  const names = new Set();
  for (const file of Object.keys(require.cache)) {
    const m = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/](?!.*node_modules)/.exec(file);
    if (m) names.add(m[1].replace('\\', '/'));
  }
  process.stderr.write(`loaded-packages: ${JSON.stringify([...names].sort())}\n`);
});
