import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A plain node:http API for the gate to stand in front of, listening on 127.0.0.1 on a free port.
 *
 * - `/created`: 201 with custom headers and two Set-Cookie headers, and a JSON body.
 * - `/stream`: a chunked response written slowly. The first chunk goes out at once; the rest
 *   wait for `release()` (or 5 s), so a test can prove the first chunk reached it before the last
 *   was sent. `streamLog` records when each chunk was written.
 * - `/upload`: reads the request body as it arrives, returns its sha256 and length.
 *   `uploadReceived` counts the bytes received so far by the upload in progress.
 * - `/healthz`: 200 `{"ok":true}`.
 * - anything else: echoes `{ method, url, headers, body }` (url is the raw path + query).
 */
export interface Upstream {
  readonly url: string;
  readonly port: number;
  /** Every request the upstream saw (method and raw url), in order. */
  readonly seen: { method: string; url: string }[];
  /** When each /stream chunk was written (performance.now()), and its text. */
  readonly streamLog: { chunk: string; at: number }[];
  /** Bytes of the current /upload received so far. */
  uploadReceived(): number;
  /** How many /stream responses and /upload requests ended early because the other side went away. */
  readonly cutShort: { stream: number; upload: number };
  /** Lets a held /stream response send its remaining chunks. */
  release(): void;
  close(): Promise<void>;
}

export interface Echo {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export const STREAM_CHUNKS = ['chunk-1\n', 'chunk-2\n', 'chunk-3\n'];

export async function startUpstream(): Promise<Upstream> {
  const seen: { method: string; url: string }[] = [];
  const streamLog: { chunk: string; at: number }[] = [];
  let received = 0;
  const cutShort = { stream: 0, upload: 0 };
  let waiters: (() => void)[] = [];

  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '' });
    const path = (req.url ?? '/').split('?')[0];

    if (path === '/created') {
      req.resume();
      req.on('end', () => {
        res.writeHead(201, 'Created', [
          ['Content-Type', 'application/json; charset=utf-8'],
          ['X-Upstream-Thing', 'kept as is'],
          ['Location', '/things/42'],
          ['Set-Cookie', 'session=abc123; Path=/; HttpOnly'],
          ['Set-Cookie', 'theme=dark; Path=/'],
        ]);
        res.end(JSON.stringify({ id: 42 }));
      });
      return;
    }

    if (path === '/stream') {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Streamed': 'yes' });
      const write = (chunk: string) => {
        streamLog.push({ chunk, at: performance.now() });
        res.write(chunk);
      };
      write(STREAM_CHUNKS[0]!);
      const go = () => {
        clearTimeout(timer);
        waiters = waiters.filter((w) => w !== go);
        let i = 1;
        const next = () => {
          if (res.destroyed) return;
          if (i < STREAM_CHUNKS.length) {
            write(STREAM_CHUNKS[i++]!);
            setTimeout(next, 50);
          } else res.end();
        };
        next();
      };
      const timer = setTimeout(go, 5000);
      waiters.push(go);
      res.on('close', () => {
        if (!res.writableFinished) {
          cutShort.stream++;
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== go);
        }
      });
      return;
    }

    if (path === '/upload') {
      const hash = createHash('sha256');
      received = 0;
      req.on('data', (d: Buffer) => {
        received += d.length;
        hash.update(d);
      });
      req.on('close', () => {
        if (!req.complete) cutShort.upload++;
      });
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ sha256: hash.digest('hex'), bytes: received, transferEncoding: req.headers['transfer-encoding'] ?? null }));
      });
      return;
    }

    if (path === '/healthz') {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ ok: true }));
      return;
    }

    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const echo: Echo = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'X-Upstream': 'echo' });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(echo));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    streamLog,
    uploadReceived: () => received,
    cutShort,
    release: () => {
      for (const w of [...waiters]) w();
    },
    close: async () => {
      for (const w of [...waiters]) w();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A server that answers every GET with `html` (a custom maintenance page), on `port` (0: any free one). */
export async function startPageServer(html: string, port = 0): Promise<{ url: string; port: number; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/maintenance.html`,
    port: actual,
    hits: () => hits,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 that was free a moment ago (listen on 0, note the port, close). */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` every `everyMs` until it returns a truthy value or `timeoutMs` passes; returns it and the time taken. */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs: number, everyMs = 25): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return { value, ms: performance.now() - start };
      last = value;
    } catch (error) {
      last = error;
    }
    if (performance.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
