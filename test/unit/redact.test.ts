import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { REDACTED, redactConfig, redactUrl } from '../../src/config/redact.js';
import { createLogger } from '../../src/log.js';

describe('config errors show no secret (validate prints them, a refused SIGHUP logs them)', () => {
  it('a too-short token, a bad header value and a bad webhook URL are named, their values are not shown', () => {
    let message = '';
    try {
      validateConfig({
        admin: { token: 'short-admin-1' },
        auth: { tokens: [{ name: 'ops', role: 'operator', token: 'shortsecretX' }] },
        alerts: { webhook: { url: 'ftp://hooks.example.com/services/SeCrEtPath', minSeverity: 'bogus' } },
        clusters: [
          {
            name: 'c',
            healthCheck: { check: { http: { headers: { Authorization: 'Bearer hdr-secret\r\nX: y' } } } },
            endpoints: [{ address: 'backend.local', port: 1 }],
          },
        ],
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('auth.tokens[0].token');
    expect(message).toContain('admin.token');
    expect(message).toContain('clusters[0].healthCheck.check.http.headers');
    for (const secret of ['shortsecretX', 'short-admin-1', 'hdr-secret', 'SeCrEtPath']) expect(message).not.toContain(secret);
    // A message that already says what it got is not given the value a second time.
    const hostLine = message.split('\n').find((l) => l.includes('backend.local'));
    expect(hostLine?.match(/backend\.local/g)).toHaveLength(1);
  });
});

describe('redaction of the running config (finding 7)', () => {
  const config = validateConfig({
    admin: { token: 'admin-token-0123456789' },
    alerts: { webhook: { url: 'https://user:pw@hooks.slack.com/services/T00/B00/SeCrEt?x=1' } },
    clusters: [
      {
        name: 'c',
        healthCheck: { check: { custom: { module: './m.mjs', options: { apiKey: 'opt-key', region: 'eu', nested: { password: 'pw2' } } } } },
        endpoints: [{ address: '10.0.0.1', port: 1, healthCheck: { check: { http: { headers: { Authorization: 'Bearer ep-secret' } } } } }],
      },
    ],
  });

  it('keeps the shape and hides every secret', () => {
    const out = redactConfig(config) as typeof config;
    const text = JSON.stringify(out);
    for (const secret of ['admin-token-0123456789', 'SeCrEt', 'T00', 'user', 'opt-key', 'pw2', 'ep-secret', 'x=1']) expect(text).not.toContain(secret);
    expect(out.admin.token).toBe(REDACTED);
    expect(out.alerts.webhook?.url).toBe(`https://hooks.slack.com/${REDACTED}`);
    expect(out.clusters[0]?.healthCheck?.check.custom?.options).toEqual({ apiKey: REDACTED, region: 'eu', nested: { password: REDACTED } });
    expect(out.clusters[0]?.endpoints[0]?.healthCheck?.check?.http?.headers).toEqual({ Authorization: REDACTED });
    expect(out.clusters[0]?.endpoints[0]?.address).toBe('10.0.0.1');
    // the running config itself is untouched
    expect(config.admin.token).toBe('admin-token-0123456789');
  });

  it.each([
    ['https://hooks.slack.com/services/T/B/X', `https://hooks.slack.com/${REDACTED}`],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080/'],
    ['http://alerts.internal:9000?token=1', `http://alerts.internal:9000/${REDACTED}`],
    ['not a url', REDACTED],
  ])('redactUrl(%s) = %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it('logs: tokens, check headers and webhook URLs are redacted', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger('info', sink);
    log.info(
      { token: 't0k3n', check: { http: { headers: { authorization: 'Bearer h3ader' } } }, webhook: { url: 'https://hooks.slack.com/services/A/B/C' } },
      'x',
    );
    log.info({ job: { check: { http: { headers: { 'x-api-key': 'k3y' } } } } }, 'y');
    const text = lines.join('');
    for (const secret of ['t0k3n', 'h3ader', 'services/A/B/C', 'k3y']) expect(text).not.toContain(secret);
    expect(text).toContain('https://hooks.slack.com/[redacted]');
  });
});
