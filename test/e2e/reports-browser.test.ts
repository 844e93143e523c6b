/**
 * The HTML reports in a real headless Chromium (Debian's `chromium`, driven by playwright-core): the
 * inline SVG charts render (non-zero boxes, drawn paths), the hashed stylesheet applies under the
 * strict CSP (no violations), hostile text shows as text, nothing runs, and no network request is
 * attempted beyond the page itself, both served by the admin endpoint and opened as a saved file.
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`). Without it this test FAILS, on purpose.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminServer } from '../../src/admin/server.js';
import { adminSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { buildReport } from '../../src/reports/build.js';
import { REPORT_TYPES, type ReportType } from '../../src/reports/model.js';
import { renderToBuffer } from '../../src/reports/render/index.js';
import { createReportsHandler } from '../../src/reports/routes.js';
import type { Store } from '../../src/store/index.js';
import { HOSTILE, MINUTE, RANGE, seededOperations, seededStore } from '../support/report-fixtures.js';

/** Debian's chromium; HEALTHMESH_CHROMIUM overrides the path. */
const CHROMIUM = process.env.HEALTHMESH_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let browser: Browser;
let server: AdminServer;
let store: Store;
let base: string;
let dir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium); the HTML report browser test needs it`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 });
  store = seededStore();
  const ops = seededOperations();
  server = new AdminServer({
    ops,
    metrics: createMetrics(ops),
    config: adminSchema.parse({ listen: '127.0.0.1:0' }),
    logger: silentLogger(),
    env: {},
    reports: createReportsHandler(ops, store, { now: () => RANGE.to + MINUTE }),
  });
  base = `http://127.0.0.1:${(await server.start()).port}`;
  dir = mkdtempSync(join(tmpdir(), 'healthmesh-report-html-'));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Observed {
  requests: string[];
  problems: string[];
  dialogs: string[];
}

/** Opens `url` and records every request, console error/warning (CSP violations land there), page error and dialog. */
async function open(url: string): Promise<{ page: Page; seen: Observed }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: true });
  const page = await context.newPage();
  const seen: Observed = { requests: [], problems: [], dialogs: [] };
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') seen.problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => seen.problems.push(`pageerror: ${e.message}`));
  page.on('dialog', (d) => {
    seen.dialogs.push(d.message());
    void d.dismiss();
  });
  const res = await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  expect(res?.status() ?? 200).toBe(200);
  return { page, seen };
}

interface ChartBox {
  kind: string;
  width: number;
  height: number;
  paths: number;
  drawnPaths: number;
  bars: number;
}

async function chartBoxes(page: Page): Promise<ChartBox[]> {
  return page.$$eval('svg.chart', (svgs) =>
    svgs.map((svg) => {
      const box = svg.getBoundingClientRect();
      const paths = [...svg.querySelectorAll('path.series, path.trend')] as SVGGraphicsElement[];
      const drawn = paths.filter((p) => {
        const b = p.getBBox();
        return b.width > 0 || b.height > 0;
      });
      const bars = ([...svg.querySelectorAll('rect.bar')] as SVGGraphicsElement[]).filter((r) => r.getBBox().width > 0).length;
      return {
        kind: svg.classList.contains('line') ? 'line' : 'bars',
        width: box.width,
        height: box.height,
        paths: paths.length,
        drawnPaths: drawn.length,
        bars,
      };
    }),
  );
}

const EXPECTS_LINES: Record<ReportType, boolean> = { summary: false, detailed: true, metrics: true, alerts: false, trends: true };

describe.each(REPORT_TYPES)('%s report in Chromium', (type) => {
  it('served by the admin endpoint: charts render, styles apply under the CSP, nothing else is fetched', async () => {
    const url = `${base}/reports/${type}?format=html&download=0&from=${RANGE.from}&to=${RANGE.to}`;
    const { page, seen } = await open(url);
    try {
      const charts = await chartBoxes(page);
      expect(charts.length).toBeGreaterThan(0);
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(100);
        expect(c.height).toBeGreaterThan(30);
        if (c.kind === 'line') expect(c.drawnPaths).toBe(c.paths);
      }
      if (EXPECTS_LINES[type]) {
        const lines = charts.filter((c) => c.kind === 'line');
        expect(lines.length).toBeGreaterThan(0);
        expect(lines.reduce((n, c) => n + c.drawnPaths, 0)).toBeGreaterThan(0);
      } else expect(charts.reduce((n, c) => n + c.bars, 0)).toBeGreaterThan(0);
      // The stylesheet (allowed by its hash) applied: header cells are grey, numbers right-aligned.
      const th = await page.$eval('th', (el) => getComputedStyle(el).backgroundColor);
      expect(th).toBe('rgb(243, 244, 246)');
      expect(await page.$$eval('script, img, iframe, object, embed, link', (els) => els.length)).toBe(0);
      expect(seen.requests).toEqual([url]);
      expect(seen.problems).toEqual([]);
      expect(seen.dialogs).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});

describe('saved HTML files', () => {
  it('open offline from disk; hostile text is shown as text and never runs', async () => {
    const source = { store, ops: seededOperations() };
    for (const type of ['detailed', 'alerts'] as const) {
      const report = await buildReport(source, type, RANGE, { now: () => RANGE.to + MINUTE });
      const file = join(dir, `${type}.html`);
      writeFileSync(file, await renderToBuffer(report, 'html'));
      const url = pathToFileURL(file).href;
      const { page, seen } = await open(url);
      try {
        const text = await page.$eval('body', (b) => b.textContent ?? '');
        expect(text).toContain(HOSTILE.script);
        expect(text).toContain(HOSTILE.formula);
        if (type === 'alerts') expect(text).toContain(HOSTILE.markdown);
        const charts = await chartBoxes(page);
        expect(charts.length).toBeGreaterThan(0);
        for (const c of charts) expect(c.width * c.height).toBeGreaterThan(0);
        expect(seen.requests).toEqual([url]);
        expect(seen.problems).toEqual([]);
        expect(seen.dialogs).toEqual([]);
        if (type === 'detailed') await page.screenshot({ path: join(dir, 'detailed.png'), fullPage: false });
      } finally {
        await page.context().close();
      }
    }
  });
});
