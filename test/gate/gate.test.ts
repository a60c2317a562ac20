import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { signBypass, verifyBypass } from '../../src/gate/bypass.ts';
import { inRange, parseRange } from '../../src/gate/cidr.ts';
import { prefersHtml, type GateOptions, type GateState, type ModeSource } from '../../src/gate/core.ts';
import { withPlatformGate } from '../../src/gate/fetch.ts';
import { platformGate } from '../../src/gate/middleware.ts';
import type { Mode } from '../../src/domain/vocabulary.ts';
import { parseLogfmt } from '../support/logfmt.ts';

function source(initial: Mode, extra: Partial<GateState> = {}) {
  let state: GateState = { mode: initial, retryAfter: null, reason: null, stale: false, ...extra };
  const modes: ModeSource = { state: () => state };
  return { modes, set: (s: Partial<GateState>) => void (state = { ...state, ...s }) };
}

type Form = 'middleware' | 'fetch wrapper';

/**
 * A small API behind the gate, in either form: platformGate as Hono middleware, or
 * withPlatformGate around the app's fetch. Both must decide alike, so every test runs on both.
 */
function app(modes: ModeSource, extra: Partial<GateOptions> = {}, ip = '203.0.113.9', form: Form = 'middleware') {
  const logs: string[] = [];
  const options = { role: 'web', modes, statusPageUrl: 'https://status.example.com', siteName: 'Acme API', log: (l: string) => logs.push(l), now: () => new Date('2026-06-01T12:00:00Z'), ...extra };
  const a = new Hono();
  if (form === 'middleware') a.use('*', platformGate({ clientIp: () => ip, ...options }));
  a.get('/apps', (c) => c.json({ apps: [] }));
  a.post('/apps', (c) => c.json({ created: true }, 201));
  a.get('/healthz', (c) => c.text('ok'));
  a.get('/internal/metrics', (c) => c.text('m'));
  if (form === 'middleware') return { a, logs };
  const fetch = withPlatformGate(a.fetch, { clientIp: () => ip, ...options });
  const request = (path: string, init: RequestInit = {}) => fetch(new Request(path.startsWith('http') ? path : `http://localhost${path}`, init), undefined, undefined);
  return { a: { fetch, request }, logs };
}

for (const form of ['middleware', 'fetch wrapper'] as const) {
describe(`platformGate (${form})`, () => {
  it('when the role is in full mode, everything passes and says so in the mode header', async () => {
    const { a, logs } = app(source('full').modes, {}, undefined, form);
    const get = await a.request('/apps');
    expect(get.status).toBe(200);
    expect(get.headers.get('platform-mode')).toBe('full');
    const post = await a.request('/apps', { method: 'POST' });
    expect(post.status).toBe(201);
    expect(post.headers.get('platform-mode')).toBe('full');
    expect(logs).toEqual([]);
  });

  it('when the role is read-only, reads pass and writes get a 503 read_only with no-store and one H80 line', async () => {
    const { a, logs } = app(source('read_only').modes, {}, undefined, form);
    expect((await a.request('/apps')).status).toBe(200);
    expect((await a.request('/apps', { method: 'HEAD' })).status).toBe(200);
    const post = await a.request('/apps', { method: 'POST', headers: { host: 'api.example.com' } });
    expect(post.status).toBe(503);
    expect(post.headers.get('cache-control')).toBe('no-store');
    expect(post.headers.get('platform-mode')).toBe('read_only');
    expect(await post.json()).toEqual({ id: 'read_only', message: 'Acme API is in read-only mode: reads work, changes are refused for now. For more information, visit https://status.example.com' });
    // Herald's one log format (level and msg first), then Heroku's router fields
    expect(logs).toEqual(['level=error msg="Read-only mode" code=H80 desc="Read-only mode" method=POST path=/apps host=api.example.com fwd=203.0.113.9 role=web status=503']);
    expect(parseLogfmt(logs[0]!)).toEqual({ level: 'error', msg: 'Read-only mode', code: 'H80', desc: 'Read-only mode', method: 'POST', path: '/apps', host: 'api.example.com', fwd: '203.0.113.9', role: 'web', status: '503' });
  });

  it('when the role is in maintenance, API clients get JSON and browsers the maintenance page, both 503 with Retry-After when the end is known', async () => {
    const s = source('maintenance', { retryAfter: '2026-06-01T14:00:00.000Z', reason: 'Database upgrade' });
    const { a, logs } = app(s.modes, {}, undefined, form);
    const api = await a.request('/apps', { headers: { accept: 'application/json' } });
    expect(api.status).toBe(503);
    expect(api.headers.get('retry-after')).toBe('Mon, 01 Jun 2026 14:00:00 GMT');
    expect(await api.json()).toEqual({ id: 'maintenance', message: 'Acme API is temporarily unavailable. For more information, visit https://status.example.com' });
    const browser = await a.request('/apps', { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    expect(browser.status).toBe(503);
    expect(browser.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await browser.text();
    expect(html).toContain('<h1>Acme API is temporarily unavailable</h1>');
    expect(html).toContain('Database upgrade');
    expect(html).toContain('<time datetime="2026-06-01T14:00:00.000Z">2026-06-01 14:00 UTC</time>');
    expect(html).toContain('href="https://status.example.com"');
    expect(logs.filter((l) => l.includes('code=H80 desc="Maintenance mode"'))).toHaveLength(2);
    s.set({ retryAfter: null });
    expect((await a.request('/apps')).headers.get('retry-after')).toBeNull();
  });

  it('when a path is allow-listed (exactly or by prefix) or the client is in an allowed range, it passes in maintenance', async () => {
    const { modes } = source('maintenance');
    const extra = { allowPaths: ['/healthz', '/internal/*'], allowIps: ['10.0.0.0/8', '2001:db8::/32'] };
    const outside = app(modes, extra, undefined, form).a;
    expect((await outside.request('/healthz')).status).toBe(200);
    expect((await outside.request('/internal/metrics')).status).toBe(200);
    expect((await outside.request('/apps')).status).toBe(503);
    expect((await app(modes, extra, '10.20.30.40', form).a.request('/apps')).status).toBe(200);
    expect((await app(modes, extra, '::ffff:10.1.2.3', form).a.request('/apps')).status).toBe(200);
    expect((await app(modes, extra, '2001:db8:1::5', form).a.request('/apps')).status).toBe(200);
    expect((await app(modes, extra, '11.0.0.1', form).a.request('/apps')).status).toBe(503);
  });

  it('when an operator visits the secret path, the signed cookie lets them through until it expires; a forged one does not', async () => {
    const secret = 'a-long-operator-secret';
    const { a } = app(source('maintenance').modes, { bypass: { secret, ttlSeconds: 3600 } }, undefined, form);
    const grant = await a.request(`/${secret}`);
    expect(grant.status).toBe(303);
    const setCookie = grant.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^herald_bypass=\d+\.[0-9a-f]{64}; Path=\/; Max-Age=3600; HttpOnly; SameSite=Lax$/);
    const value = setCookie.split(';')[0]!;
    expect((await a.request('/apps', { headers: { cookie: value } })).status).toBe(200);
    expect((await a.request('/apps', { headers: { cookie: value.replace(/.$/, (c) => (c === '0' ? '1' : '0')) } })).status).toBe(503);
    expect((await a.request('/apps', { headers: { cookie: 'herald_bypass=9999999999.' + '0'.repeat(64) } })).status).toBe(503);
    expect((await a.request('/wrong-secret')).status).toBe(503);
    const https = await a.request(`https://api.example.com/${secret}`);
    expect(https.headers.get('set-cookie')).toContain('; Secure');
  });

  it('when the mode source has lost Herald, the gate keeps the last mode and logs the loss once', async () => {
    const s = source('maintenance');
    const { a, logs } = app(s.modes, {}, undefined, form);
    s.set({ stale: true });
    expect((await a.request('/apps')).status).toBe(503);
    expect((await a.request('/apps')).status).toBe(503);
    expect(logs.filter((l) => l.includes('lost contact with Herald'))).toEqual(['level=warn msg="lost contact with Herald; keeping the last known mode" role=web mode=maintenance']);
    s.set({ stale: false, mode: 'full' });
    expect((await a.request('/apps')).status).toBe(200);
    expect(logs.at(-1)).toBe('level=info msg="in contact with Herald again" role=web mode=full');
    // the refusals while stale say so
    expect(logs.filter((l) => l.includes('code=H80')).map((l) => parseLogfmt(l).stale)).toEqual(['true', 'true']);
    for (const line of logs) expect(Object.keys(parseLogfmt(line)).slice(0, 2)).toEqual(['level', 'msg']);
  });
});
}

describe('withPlatformGate', () => {
  it('when the handler answers with immutable headers (a redirect, a proxied fetch), the mode header is still added', async () => {
    const s = source('full');
    const gated = withPlatformGate(() => Response.redirect('https://example.com/next', 302), { role: 'web', modes: s.modes, statusPageUrl: 'https://status.example.com' });
    const full = await gated(new Request('http://localhost/old'));
    expect(full.status).toBe(302);
    expect(full.headers.get('location')).toBe('https://example.com/next');
    expect(full.headers.get('platform-mode')).toBe('full');
    s.set({ mode: 'read_only' });
    const read = await gated(new Request('http://localhost/old?x=1#frag'));
    expect(read.headers.get('platform-mode')).toBe('read_only');
    expect((await gated(new Request('http://localhost/old', { method: 'DELETE' }))).status).toBe(503);
  });
});

describe('gate parts', () => {
  it('when ranges are parsed, membership follows the prefix length for IPv4 and IPv6', () => {
    expect(inRange(parseRange('192.168.1.0/24'), '192.168.1.255')).toBe(true);
    expect(inRange(parseRange('192.168.1.0/24'), '192.168.2.0')).toBe(false);
    expect(inRange(parseRange('0.0.0.0/0'), '8.8.8.8')).toBe(true);
    expect(inRange(parseRange('127.0.0.1'), '127.0.0.1')).toBe(true);
    expect(inRange(parseRange('127.0.0.1'), '127.0.0.2')).toBe(false);
    expect(inRange(parseRange('fe80::/10'), 'fe80::1%eth0')).toBe(true);
    expect(inRange(parseRange('::1/128'), '::1')).toBe(true);
    expect(inRange(parseRange('10.0.0.0/8'), 'not-an-ip')).toBe(false);
    expect(() => parseRange('10.0.0.0/33')).toThrow('"10.0.0.0/33" is not an IP address or CIDR range');
    expect(() => parseRange('banana')).toThrow();
  });

  it('when a bypass value is signed, it verifies until its expiry and not with another secret', async () => {
    const v = await signBypass('s1', new Date('2026-06-01T13:00:00Z'));
    expect(await verifyBypass('s1', v, new Date('2026-06-01T12:59:59Z'))).toBe(true);
    expect(await verifyBypass('s1', v, new Date('2026-06-01T13:00:00Z'))).toBe(false);
    expect(await verifyBypass('s2', v, new Date('2026-06-01T12:00:00Z'))).toBe(false);
    expect(await verifyBypass('s1', undefined, new Date('2026-06-01T12:00:00Z'))).toBe(false);
  });

  it('when Accept ranks HTML at or above JSON, the client is a browser', () => {
    expect(prefersHtml('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe(true);
    expect(prefersHtml('application/json')).toBe(false);
    expect(prefersHtml('application/json, text/html;q=0.5')).toBe(false);
    expect(prefersHtml('*/*')).toBe(false);
    expect(prefersHtml(null)).toBe(false);
  });
});

for (const form of ['middleware', 'fetch wrapper'] as const) {
describe(`platformGate under @hono/node-server (${form})`, () => {
  it('when served over real HTTP, the fast path still sends the mode header, and refusals still refuse', async () => {
    const { serve } = await import('@hono/node-server');
    const s = source('full');
    const { a } = app(s.modes, {}, undefined, form);
    const server = serve({ fetch: a.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    try {
      const ok = await fetch(`http://127.0.0.1:${port}/apps`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('platform-mode')).toBe('full');
      expect(await ok.json()).toEqual({ apps: [] });
      s.set({ mode: 'read_only' });
      const read = await fetch(`http://127.0.0.1:${port}/apps`);
      expect(read.headers.get('platform-mode')).toBe('read_only');
      const write = await fetch(`http://127.0.0.1:${port}/apps`, { method: 'POST' });
      expect(write.status).toBe(503);
      expect(write.headers.get('platform-mode')).toBe('read_only');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
}
