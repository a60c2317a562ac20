import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startGateProxy, type ProxyOptions } from '../../src/entry/gate.ts';
import type { Mode } from '../../src/domain/vocabulary.ts';
import { waitFor } from '../support/upstream.ts';

/**
 * What `herald gate` forwards and how it treats upgrades. Each test starts its own stand-in
 * Herald (the platform event stream, with a mode the test sets), its own upstream and its own
 * gate, and stops them after.
 */

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

async function listen(server: http.Server): Promise<{ url: string; port: number; close(): Promise<void> }> {
  // upgraded connections leave the server's bookkeeping: track every socket to close them all
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A stand-in Herald: /api/v1/platform/events sends web's mode now and on every `set`. */
async function fakeHerald(initial: Mode, retryAfter: string | null = null) {
  let doc = { mode: initial, retryAfter };
  const streams = new Set<http.ServerResponse>();
  const event = () => `event: platform\ndata: ${JSON.stringify({ roles: [{ role: 'web', mode: doc.mode, retry_after: doc.retryAfter, sources: doc.mode === 'full' ? [] : [{ title: 'Upgrade' }] }] })}\n\n`;
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(event());
    streams.add(res);
    res.on('close', () => streams.delete(res));
  });
  const l = await listen(server);
  return {
    ...l,
    set(mode: Mode, until: string | null = null) {
      doc = { mode, retryAfter: until };
      for (const s of streams) s.write(event());
    },
  };
}

/**
 * An upstream that records what it is sent. Plain requests: `/hop` answers with a header named
 * in its Connection header; anything else 200 "ok". Upgrades: `/ws` switches protocols and then
 * echoes every byte back upper-cased; `/ws-refused` answers 403 without switching.
 */
async function upstreamServer() {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    if (req.url === '/hop') {
      res.writeHead(200, { Connection: 'X-Internal', 'X-Internal': 'upstream-only', 'X-Public': 'for everyone' });
      res.end('ok');
      return;
    }
    res.end('ok');
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (req.url === '/ws-refused') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nno tunnel yet');
      return;
    }
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Upstream: tunnel\r\n\r\n');
    if (head.length > 0) socket.write(head.toString('latin1').toUpperCase());
    socket.on('data', (d: Buffer) => socket.write(d.toString('latin1').toUpperCase()));
    socket.on('error', () => {});
  });
  return { ...(await listen(server)), seen };
}

/** Herald, upstream and gate for one test; `run` gets them, and everything stops afterwards. */
async function withGate(mode: Mode, gateOptions: Partial<ProxyOptions>, run: (t: { herald: Awaited<ReturnType<typeof fakeHerald>>; upstream: Awaited<ReturnType<typeof upstreamServer>>; gatePort: number; logs: string[] }) => Promise<void>, retryAfter: string | null = null) {
  const herald = await fakeHerald(mode, retryAfter);
  const upstream = await upstreamServer();
  const logs: string[] = [];
  const gate = await startGateProxy({ upstream: upstream.url, role: 'web', port: 0, hostname: '127.0.0.1', heraldUrl: herald.url, statusPageUrl: 'https://status.example.com', log: (l) => logs.push(l), ...gateOptions });
  try {
    await gate.modes.ready(3000);
    await run({ herald, upstream, gatePort: gate.port, logs });
  } finally {
    await gate.close();
    await upstream.close();
    await herald.close();
  }
}

/** A request through the gate with node:http, headers exactly as given. */
function request(port: number, path: string, headers: http.OutgoingHttpHeaders = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A raw client asking to upgrade: resolves with the response head (status line and headers as
 * text), whatever came after it, and the socket to keep talking on.
 */
function upgrade(port: number, path: string, method = 'GET') {
  return new Promise<{ head: string; rest: () => string; socket: net.Socket; closed: Promise<void> }>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let headEnd = -1;
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('data', (d: string) => {
      text += d;
      if (headEnd < 0 && (headEnd = text.indexOf('\r\n\r\n')) >= 0) resolve({ head: text.slice(0, headEnd), rest: () => text.slice(headEnd + 4), socket, closed });
    });
    socket.write(`${method} ${path} HTTP/1.1\r\nHost: api.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
  });
}

const headerOf = (head: string, name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(head)?.[1];

describe('herald gate: hop-by-hop headers', () => {
  it('when a request names headers in Connection, the upstream gets none of them, nor the standard hop-by-hop ones', async () => {
    await withGate('full', {}, async ({ upstream, gatePort }) => {
      const r = await request(gatePort, '/things', {
        Connection: 'keep-alive, X-Hop-Secret',
        'X-Hop-Secret': 'for the gate only',
        'Keep-Alive': 'timeout=5',
        'Proxy-Authorization': 'Basic Z2F0ZTpzZWNyZXQ=',
        TE: 'trailers',
        'X-End-To-End': 'kept',
      });
      expect(r.status).toBe(200);
      const sent = upstream.seen.at(-1)!.headers;
      expect(sent['x-end-to-end']).toBe('kept');
      expect(sent['x-hop-secret']).toBeUndefined();
      expect(sent['proxy-authorization']).toBeUndefined();
      expect(sent['keep-alive']).toBeUndefined();
      expect(sent.te).toBeUndefined();
    });
  });

  it("when the upstream's answer names headers in Connection, the client gets none of them", async () => {
    await withGate('full', {}, async ({ gatePort }) => {
      const r = await request(gatePort, '/hop');
      expect(r.status).toBe(200);
      expect(r.headers['x-public']).toBe('for everyone');
      expect(r.headers['x-internal']).toBeUndefined();
      expect(r.headers['platform-mode']).toBe('full');
    });
  });
});

describe('herald gate: X-Forwarded-*', () => {
  it("when trust-proxy is off, the client's X-Forwarded-For/-Host/-Proto, Forwarded and X-Real-IP are replaced by what the gate sees", async () => {
    await withGate('full', {}, async ({ upstream, gatePort }) => {
      await request(gatePort, '/things', {
        Host: 'api.example.com',
        'X-Forwarded-For': '10.9.9.9',
        'X-Forwarded-Host': 'admin.internal',
        'X-Forwarded-Proto': 'https',
        Forwarded: 'for=10.9.9.9;proto=https',
        'X-Real-IP': '10.9.9.9',
      });
      const sent = upstream.seen.at(-1)!.headers;
      expect(sent['x-forwarded-for']).toBe('127.0.0.1');
      expect(sent['x-forwarded-host']).toBe('api.example.com');
      expect(sent['x-forwarded-proto']).toBe('http');
      expect(sent.forwarded).toBeUndefined();
      expect(sent['x-real-ip']).toBeUndefined();
      expect(sent.host).toBe(new URL(upstream.url).host);
    });
  });

  it("when trust-proxy is on, the proxy's X-Forwarded-Host/-Proto are kept, the peer is appended to X-Forwarded-For, and allowIps reads its last entry", async () => {
    await withGate('maintenance', { trustProxy: true, allowIps: ['10.0.0.0/8'] }, async ({ upstream, gatePort }) => {
      const allowed = await request(gatePort, '/things', { Host: 'api.example.com', 'X-Forwarded-For': '203.0.113.5, 10.1.1.1', 'X-Forwarded-Host': 'www.example.com', 'X-Forwarded-Proto': 'https' });
      expect(allowed.status).toBe(200);
      const sent = upstream.seen.at(-1)!.headers;
      expect(sent['x-forwarded-for']).toBe('203.0.113.5, 10.1.1.1, 127.0.0.1');
      expect(sent['x-forwarded-host']).toBe('www.example.com');
      expect(sent['x-forwarded-proto']).toBe('https');
      // an allowed address earlier in the list is only what the client claimed
      expect((await request(gatePort, '/things', { 'X-Forwarded-For': '10.1.1.1, 203.0.113.5' })).status).toBe(503);
    });
  });
});

describe('herald gate: upgrades (WebSocket)', () => {
  it('when the role is in full mode, the handshake reaches the upstream and bytes flow both ways through the tunnel', async () => {
    await withGate('full', {}, async ({ upstream, gatePort }) => {
      const c = await upgrade(gatePort, '/ws?room=1');
      expect(c.head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      expect(headerOf(c.head, 'Upgrade')).toBe('websocket');
      expect(headerOf(c.head, 'X-Upstream')).toBe('tunnel');
      expect(headerOf(c.head, 'Platform-Mode')).toBe('full');
      const sent = upstream.seen.at(-1)!;
      expect(sent).toMatchObject({ method: 'GET', url: '/ws?room=1' });
      expect(sent.headers).toMatchObject({ upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'x-forwarded-for': '127.0.0.1' });
      c.socket.write('hello through the gate');
      await waitFor(() => c.rest() === 'HELLO THROUGH THE GATE', 2000);
      c.socket.destroy();
    });
  });

  it('when the role is in maintenance, an upgrade gets 503 with Retry-After and the upstream sees nothing', async () => {
    await withGate('maintenance', {}, async ({ upstream, gatePort, logs }) => {
      const c = await upgrade(gatePort, '/ws');
      await c.closed;
      expect(c.head).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
      expect(headerOf(c.head, 'Retry-After')).toBe('Mon, 01 Jun 2026 14:00:00 GMT');
      expect(headerOf(c.head, 'Platform-Mode')).toBe('maintenance');
      expect(JSON.parse(c.rest())).toMatchObject({ id: 'maintenance' });
      expect(upstream.seen).toEqual([]);
      expect(logs.filter((l) => l.includes('code=H80'))).toHaveLength(1);
    }, '2026-06-01T14:00:00.000Z');
  });

  it('when the role is read-only, a WebSocket handshake (a GET) passes as a GET would; an upgrade by POST is refused as a write', async () => {
    await withGate('read_only', {}, async ({ gatePort }) => {
      const ws = await upgrade(gatePort, '/ws');
      expect(ws.head).toMatch(/^HTTP\/1\.1 101 /);
      expect(headerOf(ws.head, 'Platform-Mode')).toBe('read_only');
      ws.socket.destroy();
      const post = await upgrade(gatePort, '/ws', 'POST');
      expect(post.head).toMatch(/^HTTP\/1\.1 503 /);
      expect(JSON.parse((await post.closed, post.rest()))).toMatchObject({ id: 'read_only' });
    });
  });

  it('when the role goes into maintenance while a tunnel is open, the gate closes the tunnel', async () => {
    await withGate('full', {}, async ({ herald, gatePort }) => {
      const c = await upgrade(gatePort, '/ws');
      expect(c.head).toMatch(/^HTTP\/1\.1 101 /);
      herald.set('read_only');
      c.socket.write('still here');
      await waitFor(() => c.rest() === 'STILL HERE', 2000);
      herald.set('maintenance');
      await Promise.race([c.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('tunnel still open 2 s into maintenance')), 2000))]);
    });
  });

  it('when the upstream declines to switch, its answer reaches the client and the connection closes', async () => {
    await withGate('full', {}, async ({ gatePort }) => {
      const c = await upgrade(gatePort, '/ws-refused');
      await c.closed;
      expect(c.head).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
      expect(headerOf(c.head, 'Platform-Mode')).toBe('full');
      expect(c.rest()).toBe('no tunnel yet');
    });
  });
});
