import { describe, expect, it } from 'vitest';
import { checkBearer, resolveToken, tokenMatches } from '../../src/admin/auth.js';
import { AdminHttpError, toErrorReply } from '../../src/admin/errors.js';
import { parseListen } from '../../src/admin/server.js';
import { hostPort, query, stringFields } from '../../src/admin/validate.js';
import { adminSchema } from '../../src/config/schema.js';
import { HealthmeshError, InvalidArgumentError, NotFoundError } from '../../src/errors.js';

const TOKEN = 'correct-horse-battery-staple';

const thrown = (fn: () => unknown): AdminHttpError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof AdminHttpError) return err;
    throw err;
  }
  throw new Error('did not throw');
};

describe('admin token', () => {
  it.each([
    { name: 'config token wins', config: { token: TOKEN, tokenEnv: 'HM_TOKEN' }, env: { HM_TOKEN: 'x'.repeat(20) }, token: TOKEN },
    { name: 'token from the environment', config: { tokenEnv: 'HM_TOKEN' }, env: { HM_TOKEN: ` ${'y'.repeat(20)}\n` }, token: 'y'.repeat(20) },
    { name: 'unset variable', config: { tokenEnv: 'HM_TOKEN' }, env: {}, token: undefined, problem: /HM_TOKEN .* not set/ },
    { name: 'short variable', config: { tokenEnv: 'HM_TOKEN' }, env: { HM_TOKEN: 'short' }, token: undefined, problem: /fewer than 16/ },
    { name: 'nothing configured', config: {}, env: { HM_TOKEN: 'z'.repeat(20) }, token: undefined },
  ])('$name', ({ config, env, token, problem }) => {
    const r = resolveToken(config, env);
    expect(r.token).toBe(token);
    if (problem) expect('problem' in r && r.problem).toMatch(problem);
  });

  it('compares tokens exactly, whatever their lengths', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(TOKEN, `${TOKEN}x`)).toBe(false);
    expect(tokenMatches(TOKEN, TOKEN.slice(0, -1))).toBe(false);
    expect(tokenMatches(TOKEN, '')).toBe(false);
  });

  it.each([
    { header: undefined, status: 401, challenge: 'Bearer realm="healthmesh-admin"' },
    { header: 'Basic Zm9vOmJhcg==', status: 401, challenge: 'Bearer realm="healthmesh-admin"' },
    { header: 'Bearer', status: 401, challenge: 'Bearer realm="healthmesh-admin"' },
    { header: 'Bearer wrong-token-wrong-token', status: 401, challenge: 'Bearer realm="healthmesh-admin", error="invalid_token"' },
    { header: `Bearer ${TOKEN} extra`, status: 401, challenge: 'Bearer realm="healthmesh-admin"' },
  ])('refuses $header with $status', ({ header, status, challenge }) => {
    const err = thrown(() => checkBearer(TOKEN, header));
    expect(err.statusCode).toBe(status);
    expect(err.code).toBe('UNAUTHENTICATED');
    expect(err.headers['www-authenticate']).toBe(challenge);
    expect(err.message).not.toContain(TOKEN);
  });

  it('accepts the right token (scheme is case-insensitive)', () => {
    expect(() => checkBearer(TOKEN, `Bearer ${TOKEN}`)).not.toThrow();
    expect(() => checkBearer(TOKEN, `bearer ${TOKEN}`)).not.toThrow();
  });

  it('answers 403 with how to configure a token when there is none', () => {
    const err = thrown(() => checkBearer(undefined, `Bearer ${TOKEN}`));
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe('PERMISSION_DENIED');
    expect(err.message).toMatch(/admin\.token/);
    expect(err.message).toMatch(/admin\.tokenEnv/);
  });
});

describe('admin error mapping', () => {
  it.each([
    { err: new InvalidArgumentError('status', 'must be one of HEALTHY'), status: 400, code: 'INVALID_ARGUMENT', field: 'status' },
    { err: new NotFoundError('endpoint web/a:1'), status: 404, code: 'NOT_FOUND' },
    { err: new HealthmeshError('ALREADY_EXISTS', 'exists'), status: 409, code: 'ALREADY_EXISTS' },
    { err: new HealthmeshError('UNAVAILABLE', 'not yet'), status: 503, code: 'UNAVAILABLE' },
    { err: new HealthmeshError('INTERNAL', 'disk on fire at /var/lib/x'), status: 500, code: 'INTERNAL' },
    { err: new Error('password=hunter2'), status: 500, code: 'INTERNAL' },
    {
      err: Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },
    {
      err: Object.assign(new Error('Unsupported Media Type'), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    { err: Object.assign(new Error('boom'), { statusCode: 500, code: 'FST_ERR_SOMETHING' }), status: 500, code: 'INTERNAL' },
  ])('$err.message -> $status $code', ({ err, status, code, field }) => {
    const r = toErrorReply(err, 4096);
    expect(r.statusCode).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.field).toBe(field);
    if (status === 500) {
      expect(r.internal).toBe(true);
      expect(r.body.error.message).toBe('internal error');
    }
  });
});

describe('admin input validation', () => {
  it.each([
    ['10.0.0.1:8080', { address: '10.0.0.1', port: 8080 }],
    ['backend.local:1', { address: 'backend.local', port: 1 }],
    ['[::1]:9000', { address: '::1', port: 9000 }],
    ['::1:9000', { address: '::1', port: 9000 }],
  ])('hostPort(%s)', (text, expected) => {
    expect(hostPort(text, 'endpoint')).toEqual(expected);
  });

  it.each(['10.0.0.1', ':8080', '10.0.0.1:0', '10.0.0.1:65536', 'a b:80', 'a/b:80', '<x>:80', '10.0.0.1:80a', 'x'.repeat(254) + ':80'])(
    'hostPort refuses %s',
    (text) => {
      expect(() => hostPort(text, 'endpoint')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'endpoint' }));
    },
  );

  it('refuses unknown and repeated query parameters, naming them', () => {
    expect(query({ cluster: 'web' }, ['cluster'])).toEqual({ cluster: 'web' });
    expect(() => query({ clustr: 'web' }, ['cluster'])).toThrow(expect.objectContaining({ field: 'clustr' }));
    expect(() => query({ cluster: ['a', 'b'] }, ['cluster'])).toThrow(expect.objectContaining({ field: 'cluster' }));
  });

  it('reads small string fields from a body', () => {
    expect(stringFields(undefined, ['by'], 10)).toEqual({});
    expect(stringFields({ by: 'alice' }, ['by'], 10)).toEqual({ by: 'alice' });
    expect(() => stringFields({ by: 'x'.repeat(11) }, ['by'], 10)).toThrow(expect.objectContaining({ field: 'body.by' }));
    expect(() => stringFields({ by: 'a\nb' }, ['by'], 10)).toThrow(expect.objectContaining({ field: 'body.by' }));
    expect(() => stringFields({ who: 'a' }, ['by'], 10)).toThrow(expect.objectContaining({ field: 'body.who' }));
    expect(() => stringFields([1], ['by'], 10)).toThrow(expect.objectContaining({ field: 'body' }));
  });

  it('listens on loopback by default', () => {
    expect(parseListen(adminSchema.parse({}).listen)).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(parseListen('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
  });
});
