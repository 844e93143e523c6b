import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHealthmesh } from '../src/app.js';
import { validateConfig } from '../src/config/load.js';
const dir = mkdtempSync(join(tmpdir(), 'prof-'));
const app = createHealthmesh(validateConfig({ xds: { listen: '127.0.0.1:0', debounceMs: 20 }, admin: { enabled: false }, store: { path: join(dir, 'h.db') }, clusters: [{ name: 'bulk' }, { name: 'other', endpoints: [{ address: '10.9.0.1', port: 80 }] }] }));
await app.start();
for (let k = 0; k < 3; k++) {
  const t0 = performance.now();
  let next = k * 1000;
  const end = (k + 1) * 1000;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < end) {
      const i = next++;
      await app.service.register({ cluster: 'bulk', address: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`, port: 8080 });
      await new Promise((r) => setImmediate(r));
    }
  }));
  console.log(k, Math.round(performance.now() - t0));
}
await app.stop();
