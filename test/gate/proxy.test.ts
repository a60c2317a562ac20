import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { startGateProxy } from '../../src/entry/gate.ts';
import { startServer, type RunningServer } from '../../src/entry/node.ts';
import { signBypass } from '../../src/gate/bypass.ts';
import { createGate, ModeClient, platformGate, type GateState } from '../../src/gate/index.ts';
import { seedToken } from '../support/seed.ts';
import { freshDatabase } from '../support/db.ts';
import { parseLogfmt } from '../support/logfmt.ts';
import { freePort, startPageServer, startUpstream, STREAM_CHUNKS, waitFor, type Echo, type Upstream } from '../support/upstream.ts';

/**
 * `herald gate` as a library: a real Herald (startServer on a fresh database), a real upstream,
 * and the gating reverse proxy between a client and that upstream, following Herald's modes.
 *
 * The three servers are started once for the file; each describe puts web in the mode its tests
 * need before every test (webIs), and after every test each refusal it saw must have been logged
 * exactly once.
 */

const STATUS_URL = 'https://status.example.com';
const SECRET = '0123456789abcdef0123';
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

type Gate = Awaited<ReturnType<typeof startGateProxy>>;

let handle: DatabaseHandle;
let herald: RunningServer;
let upstream: Upstream;
let gate: Gate;
let gateUrl: string;
let admin: string;
const logs: string[] = [];
const others: { close(): Promise<void> }[] = [];

/** Every response from the gate that was a refusal (503 with a mode header), for the log count. */
let refusals = 0;

beforeAll(async () => {
  handle = await freshDatabase();
  const config = { ...parseConfig({ PUBLIC_URL: STATUS_URL }), port: 0 };
  herald = await startServer(config, { handle, hostname: '127.0.0.1' });
  admin = (await seedToken(handle.db, ['admin'], 'gate-test'));
  upstream = await startUpstream();
  gate = await startGateProxy({
    upstream: upstream.url,
    role: 'web',
    port: 0,
    hostname: '127.0.0.1',
    heraldUrl: herald.url,
    statusPageUrl: STATUS_URL,
    allowPaths: ['/healthz'],
    // nothing the tests connect from (127.0.0.1) is in these ranges
    allowIps: ['10.0.0.0/8', '2001:db8::/32'],
    bypass: { secret: SECRET },
    log: (line) => logs.push(line),
  });
  gateUrl = `http://127.0.0.1:${gate.port}`;
  await gate.modes.ready(5000);
});

afterAll(async () => {
  for (const o of others.reverse()) await o.close().catch(() => {});
  await gate?.close();
  await upstream?.close();
  await herald?.close();
  await handle?.close();
});

/** A request through the gate; counts refusals. */
async function via(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(`${gateUrl}${path}`, { redirect: 'manual', ...init });
  if (res.status === 503 && res.headers.get('platform-mode') !== null) refusals++;
  return res;
}

/**
 * A request through the gate with node:http, so the path goes out byte for byte as written (no
 * URL normalisation) and headers can repeat.
 */
function raw(method: string, path: string, headers: http.OutgoingHttpHeaders = {}, body?: string) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: gate.port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        if (res.statusCode === 503 && res.headers['platform-mode']) refusals++;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function heraldCall(method: string, path: string, body?: unknown) {
  const res = await fetch(`${herald.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** Sets (or clears, for `full`) web's override on Herald, then waits until the gate acts on it. */
async function setWeb(mode: 'full' | 'read_only' | 'maintenance', reason = 'Planned database upgrade'): Promise<number> {
  const r = mode === 'full' ? await heraldCall('DELETE', '/api/v1/platform/roles/web/override', { reason: 'done' }) : await heraldCall('PUT', '/api/v1/platform/roles/web/override', { mode, reason });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.role).toMatchObject({ role: 'web', mode });
  // /healthz is allowlisted: it always passes and carries the mode header, without a refusal
  const { ms } = await waitFor(async () => (await via('/healthz')).headers.get('platform-mode') === mode, 3000, 20);
  return ms;
}

const h80 = () => logs.filter((l) => /\bcode=H80\b/.test(l));

/** Puts web in `mode` by its override, passing through full so the gate also has the new reason. */
async function webIs(mode: 'full' | 'read_only' | 'maintenance', reason?: string) {
  const current = await heraldCall('GET', '/api/v1/platform?role=web');
  if (current.body.roles[0].mode !== 'full') await setWeb('full');
  if (mode !== 'full') await setWeb(mode, reason);
}

/** Refusals and H80 lines before the current test, so each test's own can be told apart. */
const atTestStart = { refusals: 0, lines: 0 };
beforeEach(() => {
  atTestStart.refusals = refusals;
  atTestStart.lines = h80().length;
});
afterEach(() => {
  expect(h80().length - atTestStart.lines, 'H80 lines logged in this test vs refusals it saw').toBe(refusals - atTestStart.refusals);
});

describe('in full mode, the gate passes requests through untouched', () => {
  beforeEach(() => webIs('full'));
  afterEach(() => {
    expect(refusals - atTestStart.refusals, 'refusals in full mode').toBe(0);
    expect(h80().length - atTestStart.lines, 'H80 lines in full mode').toBe(0);
  });

  it('when a request uses each method, the upstream sees that method and its body, and every answer says Platform-Mode: full', async () => {
    expect(gate.modes.mode('web')).toBe('full');
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const body = ['GET', 'OPTIONS'].includes(method) ? undefined : JSON.stringify({ method, n: 1 });
      const res = await via('/things/1', { method, ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}) });
      expect(res.status, method).toBe(200);
      expect(res.headers.get('platform-mode')).toBe('full');
      expect(res.headers.get('x-upstream')).toBe('echo');
      const echo = (await res.json()) as Echo;
      expect(echo.method).toBe(method);
      expect(echo.url).toBe('/things/1');
      expect(echo.body).toBe(body ?? '');
    }
    const head = await via('/things/1', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('platform-mode')).toBe('full');
    expect(upstream.seen.at(-1)).toEqual({ method: 'HEAD', url: '/things/1' });
  });

  it('when the path and query hold encoded characters, the upstream gets them byte for byte', async () => {
    const path = "/items/a%2Fb%20c/%C3%A9t%C3%A9/~x!*'()?q=caf%C3%A9&tag=a&tag=b&sym=%26%3D%2B%23&empty=&plus=a+b&pct=100%25";
    const r = await raw('GET', path);
    expect(r.status).toBe(200);
    expect(r.headers['platform-mode']).toBe('full');
    expect((JSON.parse(r.body) as Echo).url).toBe(path);
    // and through fetch, as an ordinary client would send it
    const f = await via('/search?q=%E2%9C%93%20ok&x=%2F');
    expect(((await f.json()) as Echo).url).toBe('/search?q=%E2%9C%93%20ok&x=%2F');
  });

  it('when a request carries custom headers, they arrive, and X-Forwarded-For names the client (replacing any it sent)', async () => {
    const r = await raw('POST', '/headers', {
      'X-Request-Id': 'req-7f3a',
      'X-Custom-Header': 'Value With Spaces',
      Authorization: 'Bearer upstream-token',
      Cookie: 'a=1; b=2',
      'Accept-Language': 'fr-CH, fr;q=0.9',
      'User-Agent': 'gate-test/1.0',
      'Content-Type': 'text/plain',
      'X-Multi': ['one', 'two'],
    }, 'hello');
    expect(r.status).toBe(200);
    const echo = JSON.parse(r.body) as Echo;
    expect(echo.headers).toMatchObject({
      'x-request-id': 'req-7f3a',
      'x-custom-header': 'Value With Spaces',
      authorization: 'Bearer upstream-token',
      cookie: 'a=1; b=2',
      'accept-language': 'fr-CH, fr;q=0.9',
      'user-agent': 'gate-test/1.0',
      'content-type': 'text/plain',
      'x-forwarded-for': '127.0.0.1',
    });
    expect(echo.headers['x-multi']).toBe('one, two');
    expect(echo.body).toBe('hello');

    const chained = await raw('GET', '/headers', { 'X-Forwarded-For': '203.0.113.7' });
    expect((JSON.parse(chained.body) as Echo).headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it("when the upstream answers 201 with custom headers and two cookies, the client gets that status, those headers and both Set-Cookie", async () => {
    const res = await via('/created', { method: 'POST', body: '{}' });
    expect(res.status).toBe(201);
    expect(res.statusText).toBe('Created');
    expect(res.headers.get('x-upstream-thing')).toBe('kept as is');
    expect(res.headers.get('location')).toBe('/things/42');
    expect(res.headers.getSetCookie()).toEqual(['session=abc123; Path=/; HttpOnly', 'theme=dark; Path=/']);
    expect(res.headers.get('platform-mode')).toBe('full');
    expect(await res.json()).toEqual({ id: 42 });
  });

  it('when a 5 MB body is uploaded as a stream, the upstream receives it while it is still being sent, and its sha256 matches', async () => {
    const data = randomBytes(5 * 1024 * 1024);
    const expected = createHash('sha256').update(data).digest('hex');
    const half = data.length / 2;
    const piece = 64 * 1024;
    let sawEarly = false;
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (let i = 0; i < half; i += piece) controller.enqueue(data.subarray(i, i + piece));
        // the second half is held back until the upstream has bytes: a gate that buffered the
        // whole body first would never get here
        await waitFor(() => upstream.uploadReceived() > 0, 5000, 10);
        sawEarly = upstream.uploadReceived() < data.length;
        for (let i = half; i < data.length; i += piece) controller.enqueue(data.subarray(i, i + piece));
        controller.close();
      },
    });
    const res = await via('/upload', { method: 'POST', body, duplex: 'half', headers: { 'content-type': 'application/octet-stream' } } as RequestInit);
    expect(res.status).toBe(200);
    expect(res.headers.get('platform-mode')).toBe('full');
    const got = (await res.json()) as { sha256: string; bytes: number };
    expect(got).toMatchObject({ sha256: expected, bytes: data.length });
    expect(sawEarly).toBe(true);

    // and with a Content-Length instead of chunks
    const fixed = await via('/upload', { method: 'PUT', body: data });
    expect(await fixed.json()).toEqual({ sha256: expected, bytes: data.length, transferEncoding: null });
  });

  it('when the upstream streams its answer slowly, the first chunk reaches the client before the last is sent', async () => {
    const res = await via('/stream');
    expect(res.status).toBe(200);
    expect(res.headers.get('platform-mode')).toBe('full');
    expect(res.headers.get('x-streamed')).toBe('yes');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const first = (async () => {
      while (!text.includes(STREAM_CHUNKS[0]!)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    })();
    // the upstream holds the rest for 5 s unless released: the first chunk must come well before
    await Promise.race([first, new Promise((_, reject) => setTimeout(() => reject(new Error('first chunk did not arrive within 2 s')), 2000))]);
    const receivedFirstAt = performance.now();
    expect(text).toBe(STREAM_CHUNKS[0]);
    expect(upstream.streamLog.map((s) => s.chunk)).toEqual([STREAM_CHUNKS[0]]);
    upstream.release();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text).toBe(STREAM_CHUNKS.join(''));
    expect(receivedFirstAt).toBeLessThan(upstream.streamLog.at(-1)!.at);
  });

  it('when the client goes away in the middle of a streamed answer, the gate closes the upstream request too', async () => {
    const before = upstream.cutShort.stream;
    const abort = new AbortController();
    const res = await via('/stream', { signal: abort.signal });
    const reader = res.body!.getReader();
    await reader.read(); // the first chunk; the upstream now holds the rest
    abort.abort();
    // a proxy that kept reading (or stopped reading without closing) would hold the upstream
    // connection until the upstream finished on its own, which for an event stream is never
    await waitFor(() => upstream.cutShort.stream > before, 2000).catch(() => undefined);
    expect(upstream.cutShort.stream, 'upstream /stream response still open 2 s after the client left').toBe(before + 1);
  });

  it('when the client goes away in the middle of an upload, the gate aborts the upstream request too', async () => {
    const before = upstream.cutShort.upload;
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: gate.port, method: 'POST', path: '/upload', headers: { 'content-length': String(1024 * 1024) }, agent: false });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(128 * 1024));
      // the counter still holds the previous upload's size until this one reaches the upstream
      waitFor(() => upstream.uploadReceived() >= 64 * 1024 && upstream.uploadReceived() <= 128 * 1024, 2000).then(() => {
        req.destroy();
        resolve();
      }, () => resolve());
    });
    await waitFor(() => upstream.cutShort.upload > before, 2000).catch(() => undefined);
    expect(upstream.cutShort.upload, 'upstream still waiting for the rest of an upload whose client left 2 s ago').toBe(before + 1);
  });

  it('when the upstream is down, the client gets 502 bad_gateway with the mode header', async () => {
    const down = await startGateProxy({ upstream: `http://127.0.0.1:${await freePort()}`, role: 'web', port: 0, hostname: '127.0.0.1', heraldUrl: herald.url, statusPageUrl: STATUS_URL, log: () => {} });
    others.push(down);
    const res = await fetch(`http://127.0.0.1:${down.port}/anything`);
    expect(res.status).toBe(502);
    expect(res.headers.get('platform-mode')).toBe('full');
    expect(await res.json()).toMatchObject({ id: 'bad_gateway' });
  });

  it('in full mode nothing is refused or logged as H80', async () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE']) expect((await via('/things', { method })).status, method).toBe(200);
    expect((await via('/dashboard', { headers: { accept: BROWSER_ACCEPT } })).status).toBe(200);
    expect(refusals).toBe(atTestStart.refusals);
    expect(h80().length).toBe(atTestStart.lines);
  });
});

describe('in maintenance, the gate refuses', () => {
  const reason = 'Planned database upgrade <b>now</b>';
  beforeEach(() => webIs('maintenance', reason));

  it('when web is set to maintenance on Herald, the gate refuses within 1 s', async () => {
    await webIs('full');
    const ms = await setWeb('maintenance', reason);
    expect(ms).toBeLessThan(1000);
  });

  it('when an API client calls, it gets 503 {"id":"maintenance"} naming the status page, no-store and Platform-Mode: maintenance; the upstream sees nothing', async () => {
    const before = upstream.seen.length;
    for (const accept of [undefined, 'application/json', '*/*', 'application/json, text/html;q=0.5']) {
      const res = await via('/things', accept ? { headers: { accept } } : {});
      expect(res.status, accept).toBe(503);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('platform-mode')).toBe('maintenance');
      expect(res.headers.get('retry-after')).toBeNull(); // an override has no known end
      const body = (await res.json()) as { id: string; message: string };
      expect(body.id).toBe('maintenance');
      expect(body.message).toContain(STATUS_URL);
    }
    const post = await via('/things', { method: 'POST', body: JSON.stringify({ x: 1 }), headers: { 'content-type': 'application/json' } });
    expect(post.status).toBe(503);
    expect(((await post.json()) as { id: string }).id).toBe('maintenance');
    const head = await via('/things', { method: 'HEAD' });
    expect(head.status).toBe(503);
    expect(head.headers.get('platform-mode')).toBe('maintenance');
    expect(upstream.seen.length).toBe(before);
  });

  it('when a browser navigates, it gets the 503 HTML maintenance page with the reason (escaped) and a link to the status page', async () => {
    const res = await via('/dashboard', { headers: { accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('platform-mode')).toBe('maintenance');
    const html = await res.text();
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('is temporarily unavailable');
    expect(html).toContain(`<a href="${STATUS_URL}">`);
    expect(html).toContain('Planned database upgrade &lt;b&gt;now&lt;/b&gt;');
    expect(html).not.toContain('<b>now</b>');
  });

  it('when a health check calls an allowlisted path, it passes (exact path only, query allowed)', async () => {
    for (const path of ['/healthz', '/healthz?probe=lb']) {
      const res = await via(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('platform-mode')).toBe('maintenance');
      expect(await res.json()).toEqual({ ok: true });
    }
    expect((await via('/healthz/deep')).status).toBe(503);
    expect((await via('/healthzz')).status).toBe(503);
  });

  it('when a request target only looks like an allowlisted path to the gate, it does not reach the upstream as another path', async () => {
    // new URL('//evil.example/healthz', base) has pathname /healthz, but the upstream is sent
    // the raw target '//evil.example/healthz': the gate must decide on what it forwards
    const before = upstream.seen.length;
    for (const target of ['//evil.example/healthz', '//evil.example/admin/healthz/../../healthz']) {
      const r = await raw('DELETE', target);
      const reached = upstream.seen.slice(before).map((s) => s.url);
      expect(r.status === 503 || reached.every((u) => u.split('?')[0] === '/healthz'), `${target} -> ${r.status}, upstream saw ${JSON.stringify(reached)}`).toBe(true);
    }
  });

  it('when a client forges X-Forwarded-For with an allowed address, it is still refused (the socket address counts)', async () => {
    const res = await via('/things', { headers: { 'x-forwarded-for': '10.1.2.3' } });
    expect(res.status).toBe(503);
  });

  it('when an allowed address connects, it passes', async () => {
    const open = await startGateProxy({ upstream: upstream.url, role: 'web', port: 0, hostname: '127.0.0.1', heraldUrl: herald.url, statusPageUrl: STATUS_URL, allowIps: ['127.0.0.0/8'], log: () => {} });
    others.push(open);
    await waitFor(() => open.modes.mode('web') === 'maintenance', 3000);
    const res = await fetch(`http://127.0.0.1:${open.port}/things`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(res.headers.get('platform-mode')).toBe('maintenance');
    expect(((await res.json()) as Echo).method).toBe('DELETE');
  });

  it('each refusal is logged as exactly one logfmt line with code=H80 desc="Maintenance mode"', async () => {
    for (const accept of [undefined, 'application/json', '*/*']) expect((await via('/things', accept ? { headers: { accept } } : {})).status).toBe(503);
    expect((await via('/things', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(503);
    expect((await via('/things', { method: 'HEAD' })).status).toBe(503);
    expect((await via('/dashboard', { headers: { accept: BROWSER_ACCEPT } })).status).toBe(503);
    for (const path of ['/healthz/deep', '/healthzz', '/a', '/b?c=d']) expect((await via(path)).status).toBe(503);
    const lines = h80().slice(atTestStart.lines);
    expect(lines.length).toBe(refusals - atTestStart.refusals);
    expect(lines.length).toBeGreaterThanOrEqual(10);
    for (const line of lines) {
      expect(line).not.toContain('\n');
      expect(line).toContain('code=H80 desc="Maintenance mode"');
      expect(line).toMatch(/^level=error msg="Maintenance mode" code=H80 desc="Maintenance mode" method=[A-Z]+ path=\S+ host=127\.0\.0\.1:\d+ fwd=127\.0\.0\.1 role=web status=503$/);
    }
    expect(lines).toContainEqual(expect.stringContaining('method=POST path=/things '));
    expect(lines).toContainEqual(expect.stringContaining('method=GET path=/dashboard '));
    // every line the gate wrote (listening, contact with Herald, refusals) is Herald's one format
    expect(logs).toContainEqual(expect.stringMatching(/^level=info msg="gate listening" url=http:\/\/localhost:\d+ upstream=http:\/\/127\.0\.0\.1:\d+ role=web herald=http:\/\/127\.0\.0\.1:\d+$/));
    expect(logs).toContainEqual(expect.stringMatching(/^level=info msg="in contact with Herald" url=/));
    for (const line of logs) expect(Object.keys(parseLogfmt(line)).slice(0, 2)).toEqual(['level', 'msg']);
  });
});

describe('the operator bypass', () => {
  beforeEach(() => webIs('maintenance'));

  /** The bypass cookie (name=value) the gate sets for a visit to /<secret>. */
  const bypassCookie = async () => (await via(`/${SECRET}`)).headers.getSetCookie()[0]!.split(';')[0]!;

  it('when the operator visits /<secret>, it gets 303 and a signed HttpOnly, SameSite=Lax cookie with a Max-Age; the upstream never sees the secret', async () => {
    const res = await via(`/${SECRET}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const [setCookie] = res.headers.getSetCookie();
    expect(setCookie).toMatch(/^herald_bypass=\d+\.[0-9a-f]{64}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Lax$/);
    const cookie = setCookie!.split(';')[0]!;
    const exp = Number(cookie.split('=')[1]!.split('.')[0]);
    expect(Math.abs(exp - (Date.now() / 1000 + 43200))).toBeLessThan(60);
    expect(upstream.seen.some((s) => s.url.includes(SECRET))).toBe(false);
  });

  it('when a request carries that cookie, it passes in maintenance (reads and writes)', async () => {
    const cookie = await bypassCookie();
    const get = await via('/things', { headers: { cookie: `other=1; ${cookie}` } });
    expect(get.status).toBe(200);
    expect(get.headers.get('platform-mode')).toBe('maintenance');
    const post = await via('/things', { method: 'POST', body: 'x', headers: { cookie } });
    expect(post.status).toBe(200);
    expect(((await post.json()) as Echo).method).toBe('POST');
  });

  it('when the cookie is forged, tampered with, signed with another secret or expired, it is refused', async () => {
    const cookie = await bypassCookie();
    const [exp, sig] = cookie.split('=')[1]!.split('.');
    const forged = [
      `herald_bypass=${exp}.${'0'.repeat(64)}`,
      `herald_bypass=${Number(exp) + 86400}.${sig}`,
      `herald_bypass=${await signBypass('another-secret-of-20c', new Date(Date.now() + 3600_000))}`,
      `herald_bypass=${await signBypass(SECRET, new Date(Date.now() - 1000))}`,
      `herald_bypass=${exp}`,
      'herald_bypass=',
    ];
    for (const c of forged) {
      const res = await via('/things', { headers: { cookie: c } });
      expect(res.status, c).toBe(503);
    }
    // the same expired signature is what a real cookie becomes once its Max-Age has passed
    expect(h80().length - atTestStart.lines).toBe(refusals - atTestStart.refusals);
  });
});

describe('in read_only, reads pass and writes are refused', () => {
  it('when web is switched to read_only, the gate follows within 1 s; GET, HEAD and OPTIONS pass, writes get 503 {"id":"read_only"}', async () => {
    await webIs('full');
    const ms = await setWeb('read_only');
    expect(ms).toBeLessThan(1000);
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      const res = await via('/things', { method });
      expect(res.status, method).toBe(200);
      expect(res.headers.get('platform-mode')).toBe('read_only');
    }
    const before = upstream.seen.length;
    const linesBefore = h80().length;
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const res = await via('/things', { method, body: '{}', headers: { 'content-type': 'application/json', accept: BROWSER_ACCEPT } });
      expect(res.status, method).toBe(503);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('platform-mode')).toBe('read_only');
      const body = (await res.json()) as { id: string; message: string };
      expect(body.id).toBe('read_only');
      expect(body.message).toContain(STATUS_URL);
    }
    expect(upstream.seen.length).toBe(before);
    const lines = h80().slice(linesBefore);
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(l).toContain('code=H80 desc="Read-only mode"');
    expect(h80().length - atTestStart.lines).toBe(refusals - atTestStart.refusals);
  });
});

describe('a custom maintenance page (maintenancePageUrl)', () => {
  const CUSTOM = '<!DOCTYPE html><html><head><title>Acme is down</title></head><body><h1>Acme will be right back</h1></body></html>';
  beforeEach(() => webIs('maintenance'));

  it('when web is in maintenance and the page server answers, browsers get that page (API clients still get JSON)', async () => {
    const page = await startPageServer(CUSTOM);
    others.push(page);
    const pageLogs: string[] = [];
    const g = await startGateProxy({ upstream: upstream.url, role: 'web', port: 0, hostname: '127.0.0.1', heraldUrl: herald.url, statusPageUrl: STATUS_URL, maintenancePageUrl: page.url, log: (l) => pageLogs.push(l) });
    others.push(g);
    await waitFor(() => g.modes.mode('web') === 'maintenance', 3000);
    const res = await fetch(`http://127.0.0.1:${g.port}/`, { headers: { accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('platform-mode')).toBe('maintenance');
    expect(await res.text()).toBe(CUSTOM);
    const api = await fetch(`http://127.0.0.1:${g.port}/`, { headers: { accept: 'application/json' } });
    expect(((await api.json()) as { id: string }).id).toBe('maintenance');
    // fetched once, then cached: a page server that goes away does not blank the page
    await page.close();
    const again = await fetch(`http://127.0.0.1:${g.port}/`, { headers: { accept: BROWSER_ACCEPT } });
    expect(await again.text()).toBe(CUSTOM);
    expect(page.hits()).toBe(1);
  });

  it('when the page server is down, browsers get the built-in page (and a warning is logged); once it is up, its page is served after the 30 s retry pause', async () => {
    const port = await freePort();
    const pageLogs: string[] = [];
    let offset = 0;
    const g = await startGateProxy({ upstream: upstream.url, role: 'web', port: 0, hostname: '127.0.0.1', heraldUrl: herald.url, statusPageUrl: STATUS_URL, maintenancePageUrl: `http://127.0.0.1:${port}/maintenance.html`, log: (l) => pageLogs.push(l), now: () => new Date(Date.now() + offset) });
    others.push(g);
    await waitFor(() => g.modes.mode('web') === 'maintenance', 3000);
    const res = await fetch(`http://127.0.0.1:${g.port}/`, { headers: { accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(503);
    const html = await res.text();
    expect(html).toContain('is temporarily unavailable');
    expect(html).toContain(`<a href="${STATUS_URL}">`);
    expect(pageLogs.some((l) => l.includes('maintenance page fetch failed'))).toBe(true);

    const page = await startPageServer(CUSTOM, port);
    others.push(page);
    // within the pause after a failure the gate does not try again: still the built-in page
    const soon = await fetch(`http://127.0.0.1:${g.port}/`, { headers: { accept: BROWSER_ACCEPT } });
    expect(await soon.text()).toContain('is temporarily unavailable');
    offset = 31_000;
    const later = await fetch(`http://127.0.0.1:${g.port}/`, { headers: { accept: BROWSER_ACCEPT } });
    expect(later.status).toBe(503);
    expect(await later.text()).toBe(CUSTOM);
  });
});

describe('the middleware on a Hono app, fed by a polling ModeClient', () => {
  it('when modes change on Herald, platformGate follows (maintenance, read_only, full), revalidating with ETags; createGate decides the same way', async () => {
    await webIs('full');
    const statuses: number[] = [];
    const countingFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      statuses.push(res.status);
      return res;
    };
    const modes = new ModeClient({ heraldUrl: herald.url, transport: 'poll', pollIntervalMs: 100, fetch: countingFetch, log: () => {} });
    try {
      await modes.ready(5000);
      expect(modes.stale).toBe(false);
      const mwLogs: string[] = [];
      const app = new Hono();
      app.use('*', platformGate({ role: 'web', modes, statusPageUrl: STATUS_URL, allowPaths: ['/healthz'], clientIp: () => '198.51.100.7', log: (l) => mwLogs.push(l) }));
      app.get('/healthz', (c) => c.text('ok'));
      app.get('/things', (c) => c.json({ things: [] }));
      app.post('/things', (c) => c.json({ created: true }, 201));

      const ok = await app.request('/things');
      expect(ok.status).toBe(200);
      expect(ok.headers.get('platform-mode')).toBe('full');

      // a few unchanged polls revalidate with If-None-Match
      await waitFor(() => statuses.filter((s) => s === 304).length >= 2, 3000);

      await heraldCall('PUT', '/api/v1/platform/roles/web/override', { mode: 'maintenance', reason: 'Middleware check' });
      const { ms } = await waitFor(async () => (await app.request('/things')).status === 503, 2000, 20);
      expect(ms).toBeLessThan(1000);
      const refused = await app.request('/things', { headers: { accept: 'application/json' } });
      expect(refused.headers.get('platform-mode')).toBe('maintenance');
      expect(refused.headers.get('cache-control')).toBe('no-store');
      expect(await refused.json()).toMatchObject({ id: 'maintenance', message: expect.stringContaining(STATUS_URL) });
      const page = await app.request('/things', { headers: { accept: BROWSER_ACCEPT } });
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('Middleware check');
      const health = await app.request('/healthz');
      expect(health.status).toBe(200);
      expect(health.headers.get('platform-mode')).toBe('maintenance');
      expect(mwLogs.filter((l) => l.includes('code=H80 desc="Maintenance mode"')).length).toBeGreaterThanOrEqual(3);
      expect(mwLogs.find((l) => l.includes('code=H80'))).toContain('fwd=198.51.100.7');

      await heraldCall('PUT', '/api/v1/platform/roles/web/override', { mode: 'read_only', reason: 'Middleware check' });
      await waitFor(() => modes.mode('web') === 'read_only', 2000);
      const read = await app.request('/things');
      expect(read.status).toBe(200);
      expect(read.headers.get('platform-mode')).toBe('read_only');
      const write = await app.request('/things', { method: 'POST' });
      expect(write.status).toBe(503);
      expect(await write.json()).toMatchObject({ id: 'read_only' });

      // the decision core on its own, on the same mode source
      const decide = createGate({ role: 'web', modes, statusPageUrl: STATUS_URL, allowIps: ['10.0.0.0/8'], log: () => {} });
      const url = new URL('https://api.example.com/apps/1');
      const allowed = await decide({ method: 'DELETE', url, headers: new Headers(), ip: '10.20.30.40' });
      expect(allowed).toEqual({ action: 'pass', headers: { 'Platform-Mode': 'read_only' } });
      const denied = await decide({ method: 'DELETE', url, headers: new Headers(), ip: '192.0.2.1' });
      expect(denied.action).toBe('respond');
      if (denied.action === 'respond') expect(denied.response.status).toBe(503);

      await heraldCall('DELETE', '/api/v1/platform/roles/web/override', { reason: 'done' });
      await waitFor(async () => (await app.request('/things', { method: 'POST' })).status === 201, 2000, 20);
      const state: GateState = modes.state('web');
      expect(state).toEqual({ mode: 'full', retryAfter: null, reason: null, stale: false });
    } finally {
      modes.close();
    }
  });
});

describe('back to full', () => {
  it('when the override is cleared, the gate passes everything again within 1 s, and every refusal was logged once', async () => {
    await webIs('maintenance');
    expect((await via('/things', { method: 'DELETE' })).status).toBe(503);
    const ms = await setWeb('full');
    expect(ms).toBeLessThan(1000);
    const res = await via('/things', { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(res.headers.get('platform-mode')).toBe('full');
    expect(h80().length - atTestStart.lines).toBe(refusals - atTestStart.refusals);
    expect(logs.some((l) => l.includes('lost contact'))).toBe(false);
  });
});
