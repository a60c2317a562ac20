import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { ASSETS } from '../../templates/assets.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';

const MIN = 60_000;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let admin: string;

beforeAll(async () => {
  handle = await freshDatabase();
  t = await testApp(handle, { HERALD_NAME: 'Acme' });
  admin = await t.token(['admin']);
});
afterAll(async () => handle.close());

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await t.app.request(path, { headers });
  return { res, text: res.headers.get('content-encoding') ? '' : await res.text() };
}

describe('public pages from the snapshot', () => {
  it('when an update is posted, the very next page load shows it, with a new ETag; an unchanged page answers 304', async () => {
    t.clock.set(at(0));
    const first = await get('/');
    expect(first.res.status).toBe(200);
    expect(first.res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(first.res.headers.get('cache-control')).toBe('public, max-age=5, stale-while-revalidate=30, stale-if-error=86400');
    expect(first.res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(first.res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(first.text).toContain('All systems operational');
    const etag = first.res.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const again = await get('/', { 'if-none-match': etag });
    expect(again.res.status).toBe(304);
    expect(again.text).toBe('');

    const inc = await t.call('POST', '/api/v1/incidents', { token: admin, body: { title: 'Queue backlog', message: 'Jobs are **delayed**.', statuses: { production: 'yellow' }, modes: { worker: 'read_only' } } });
    expect(inc.status).toBe(201);
    const next = await get('/', { 'if-none-match': etag });
    expect(next.res.status).toBe(200);
    expect(next.res.headers.get('etag')).not.toBe(etag);
    expect(next.text).toContain('Queue backlog');
    expect(next.text).toContain('Jobs are <strong>delayed</strong>.');
    expect(next.text).toContain('Production: Degraded performance');
    expect(next.text).toContain('The worker API is read-only.');
    const status = await t.call('GET', '/api/v1/status');
    expect(status.body.platform).toEqual([
      { role: 'web', mode: 'full', since: null, sources: [], retry_after: null, refresh: null },
      {
        role: 'worker',
        mode: 'read_only',
        since: at(0),
        sources: [{ source: `incident:${inc.body.id}`, kind: 'incident', mode: 'read_only', title: 'Queue backlog', until: null, url: `https://status.example.com/incidents/${inc.body.id}` }],
        retry_after: null,
        refresh: null,
      },
    ]);
    await t.call('POST', `/api/v1/incidents/${inc.body.id}/updates`, { token: admin, body: { state: 'resolved', message: 'Drained.' } });
    const after = await get('/');
    expect(after.text).toContain('All systems operational');
    expect(after.text).not.toContain('The worker API is read-only.');
  });

  it('when a client accepts br or gzip, the body comes compressed and decompresses to the same page', async () => {
    const plain = await get('/api/v4/current-status');
    const br = await t.app.request('/', { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('vary')).toBe('Accept-Encoding');
    const html = brotliDecompressSync(Buffer.from(await br.arrayBuffer())).toString();
    expect(html).toBe((await get('/')).text);
    const gz = await t.app.request('/', { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString()).toBe(html);
    const none = await t.app.request('/', { headers: { 'accept-encoding': 'br;q=0, gzip;q=0' } });
    expect(none.headers.get('content-encoding')).toBeNull();
    expect(JSON.parse(plain.text).status).toHaveLength(2);
  });

  it('when a cache in front of Herald revalidates with the ETag of another coding, it gets its own coding in full, never a 304', async () => {
    const gz = await t.app.request('/', { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    const gzipTag = gz.headers.get('etag')!;
    const html = gunzipSync(Buffer.from(await gz.arrayBuffer())).toString();

    // A client that accepts no coding, sent the gzip copy's validator: the identity bytes, whole.
    const identity = await t.app.request('/', { headers: { 'if-none-match': gzipTag } });
    expect(identity.status).toBe(200);
    expect(identity.headers.get('content-encoding')).toBeNull();
    expect(identity.headers.get('vary')).toBe('Accept-Encoding');
    expect(await identity.text()).toBe(html);
    const identityTag = identity.headers.get('etag')!;
    expect(identityTag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(gzipTag).toBe(`${identityTag.slice(0, -1)}-gzip"`);
    const unchanged = await t.app.request('/', { headers: { 'if-none-match': identityTag } });
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.get('etag')).toBe(identityTag);

    const br = await t.app.request('/', { headers: { 'accept-encoding': 'br', 'if-none-match': `${identityTag}, ${gzipTag}` } });
    expect(br.status).toBe(200);
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('etag')).toBe(`${identityTag.slice(0, -1)}-br"`);
    const gzUnchanged = await t.app.request('/', { headers: { 'accept-encoding': 'gzip', 'if-none-match': gzipTag } });
    expect(gzUnchanged.status).toBe(304);
    expect(gzUnchanged.headers.get('etag')).toBe(gzipTag);
    expect(gzUnchanged.headers.get('vary')).toBe('Accept-Encoding');
    expect((await t.app.request('/', { headers: { 'accept-encoding': 'gzip', 'if-none-match': identityTag } })).status).toBe(200);
  });

  it('when an incident ran 3 h 41 min on production, its page says so in words, with a timeline anchor per update and the postmortem once published', async () => {
    t.clock.set(at(10 * 60 * MIN));
    const inc = await t.call('POST', '/api/v1/incidents', { token: admin, body: { title: 'Login outage', message: 'Logins fail.', statuses: { production: 'red' }, at: at(5 * 60 * MIN) } });
    const id = inc.body.id;
    const resolved = await t.call('POST', `/api/v1/incidents/${id}/updates`, { token: admin, body: { state: 'resolved', message: 'Logins work.', at: at(5 * 60 * MIN + 221 * MIN) } });
    await t.call('PUT', `/api/v1/incidents/${id}/postmortem`, { token: admin, body: { markdown: '## Cause\nAn expired <script>alert(1)</script> certificate.' } });
    const draft = await get(`/incidents/${id}`);
    expect(draft.text).not.toContain('Postmortem');
    await t.call('POST', `/api/v1/incidents/${id}/postmortem/publish`, { token: admin });
    const page = await get(`/incidents/${id}`);
    expect(page.res.status).toBe(200);
    expect(page.text).toContain('<title>Login outage · Acme status</title>');
    expect(page.text).toContain('<strong>Production</strong> 3 hours 41 minutes');
    expect(page.text).toContain(`id="update-${resolved.body.update.id}"`);
    expect(page.text).toContain(`<time datetime="${at(5 * 60 * MIN)}"`);
    expect(page.text).toContain('<h4>Cause</h4>');
    expect(page.text).not.toContain('<script>alert(1)</script>');
    expect(page.text).toContain('<p>An expired &lt;script&gt;alert(1)&lt;/script&gt; certificate.</p>');
  });

  it('when an incident does not exist, its page is a 404 in the site style', async () => {
    for (const path of ['/incidents/999999', '/incidents/abc', '/incidents/99999999999']) {
      const r = await get(path);
      expect(r.res.status).toBe(404);
      expect(r.res.headers.get('content-type')).toContain('text/html');
      expect(r.text).toContain('Page not found');
    }
    const html = await get('/no/such/page', { accept: 'text/html,application/xhtml+xml' });
    expect(html.res.status).toBe(404);
    expect(html.text).toContain('Page not found');
    const json = await t.call('GET', '/no/such/page');
    expect(json.body).toEqual({ id: 'not_found', code: 'request.no_route', message: 'Nothing at GET /no/such/page.' });
  });

  it('when a month had no incidents, the history page says so, and lists the others by month with durations', async () => {
    // an incident on 2026-03-01, red on production for 3 h 41 min (15:00 to 18:41)
    t.clock.set(at(10 * 60 * MIN));
    const inc = await t.call('POST', '/api/v1/incidents', { token: admin, body: { title: 'Webhook outage', message: 'Webhooks fail.', statuses: { production: 'red' }, at: at(5 * 60 * MIN) } });
    expect(inc.status).toBe(201);
    await t.call('POST', `/api/v1/incidents/${inc.body.id}/updates`, { token: admin, body: { state: 'resolved', message: 'Webhooks work.', at: at(5 * 60 * MIN + 221 * MIN) } });
    t.clock.set('2026-05-10T12:00:00Z');
    const r = await get('/history');
    expect(r.res.status).toBe(200);
    // page 1 covers May, April, March 2026; every incident in this file started on 2026-03-01
    expect(r.text).toMatch(/<h2 id="m-2026-05">May 2026<\/h2><p class="muted">No incidents reported.<\/p>/);
    expect(r.text).toMatch(/<h2 id="m-2026-04">April 2026<\/h2><p class="muted">No incidents reported.<\/p>/);
    expect(r.text).toContain('March 2026');
    expect(r.text).toContain('Webhook outage');
    expect(r.text).toContain('Production 3 hours 41 minutes');
    expect(r.text).not.toContain('Older →');
    expect((await get('/history?page=2')).text).toContain('February 2026');
    expect((await get('/history?page=x')).res.status).toBe(404);
  });

  it('when an asset is requested, it is served from memory, immutable, under its hashed name', async () => {
    const css = await t.app.request(ASSETS.css.path);
    expect(css.status).toBe(200);
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toBe(ASSETS.css.body);
  });
});

describe('cross-origin reads', () => {
  it('when a widget on another site reads the public JSON or the feed, CORS allows it; a preflight for a write does not', async () => {
    for (const path of ['/api/v1/status', '/api/v4/current-status', '/feed.rss']) {
      const r = await t.app.request(path, { headers: { origin: 'https://widgets.example.net' } });
      expect(r.headers.get('access-control-allow-origin')).toBe('*');
      expect(r.headers.get('access-control-expose-headers')).toBe('ETag,Link,Retry-After');
    }
    const pre = await t.app.request('/api/v1/incidents', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET,HEAD');
  });
});
