import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLogfmt } from '../support/logfmt.ts';
import { HERALD_BIN, runHerald, stopChild } from '../support/process.ts';

/**
 * `herald gate` as an operator starts it, the real binary: how `--trust-proxy` (and
 * HERALD_GATE_TRUST_PROXY) change what the gate does with X-Forwarded-For. One stand-in Herald
 * keeps web in maintenance; one upstream records what reaches it; `/open` is allow-listed by
 * path, so it passes whatever the address, and 10.0.0.0/8 by address.
 */

interface Seen {
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

async function listen(server: http.Server) {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let heraldServer: http.Server;
let upstreamServer: http.Server;
let heraldUrl: string;
let upstreamUrl: string;
const seen: Seen[] = [];

beforeAll(async () => {
  heraldServer = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(`event: platform\ndata: ${JSON.stringify({ roles: [{ role: 'web', mode: 'maintenance', retry_after: null, sources: [{ title: 'Upgrade' }] }] })}\n\n`);
  });
  upstreamServer = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    req.resume();
    res.end('ok');
  });
  [heraldUrl, upstreamUrl] = await Promise.all([listen(heraldServer), listen(upstreamServer)]);
});

afterAll(async () => {
  heraldServer.closeAllConnections();
  upstreamServer.closeAllConnections();
  await Promise.all([heraldServer, upstreamServer].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

interface GateProcess {
  readonly url: string;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `herald gate … EXTRA` and resolves once it logs that it listens. */
async function startGate(extra: string[], env: Record<string, string> = {}): Promise<GateProcess> {
  const args = ['gate', '--upstream', upstreamUrl, '--role', 'web', '--port', '0', '--hostname', '127.0.0.1', '--herald', heraldUrl, '--allow-path', '/open', '--allow-ip', '10.0.0.0/8', ...extra];
  const child = spawn(process.execPath, [HERALD_BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`herald gate did not start:\n${stderr}`)), 30_000);
    child.stderr!.on('data', () => {
      const m = /msg="gate listening" url=http:\/\/localhost:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`herald gate exited with ${code}:\n${stderr}`));
    });
  });
  return { url: `http://127.0.0.1:${port}`, stderr: () => stderr, stop: () => stopChild(child) };
}

/** A GET through the gate with X-Forwarded-For as a proxy (or a client) would send it. */
async function through(gate: GateProcess, path: string, forwardedFor: string) {
  const before = seen.length;
  const res = await fetch(`${gate.url}${path}`, { headers: { 'x-forwarded-for': forwardedFor, 'x-forwarded-proto': 'https' } });
  await res.arrayBuffer();
  return { status: res.status, upstream: seen.slice(before).at(-1)?.headers };
}

describe('herald gate --trust-proxy', () => {
  it('when not given, X-Forwarded-For is replaced by the gate\'s peer and --allow-ip checks the peer, not what the client claims', async () => {
    const gate = await startGate([]);
    try {
      const open = await through(gate, '/open', '203.0.113.5, 10.1.1.1');
      expect(open.status).toBe(200);
      expect(open.upstream?.['x-forwarded-for']).toBe('127.0.0.1');
      expect(open.upstream?.['x-forwarded-proto']).toBe('http');
      // 10.1.1.1 is allow-listed, but only the client says it comes from there
      const claimed = await through(gate, '/apps', '203.0.113.5, 10.1.1.1');
      expect(claimed).toEqual({ status: 503, upstream: undefined });
      // the line reaches us through the child's stderr, maybe after the response
      await expect.poll(gate.stderr).toMatch(/^level=error msg="Maintenance mode" code=H80 desc="Maintenance mode" method=GET path=\/apps host=127\.0\.0\.1:\d+ fwd=127\.0\.0\.1 role=web status=503$/m);
      for (const line of gate.stderr().trim().split('\n')) expect(Object.keys(parseLogfmt(line)).slice(0, 2)).toEqual(['level', 'msg']);
    } finally {
      await gate.stop();
    }
  });

  it('when given, the peer is appended to X-Forwarded-For, the proxy\'s X-Forwarded-Proto is kept, and --allow-ip checks the last entry', async () => {
    const gate = await startGate(['--trust-proxy']);
    try {
      const open = await through(gate, '/open', '203.0.113.5');
      expect(open.status).toBe(200);
      expect(open.upstream?.['x-forwarded-for']).toBe('203.0.113.5, 127.0.0.1');
      expect(open.upstream?.['x-forwarded-proto']).toBe('https');
      // the proxy saw 10.1.1.1: allow-listed
      const allowed = await through(gate, '/apps', '203.0.113.5, 10.1.1.1');
      expect(allowed.status).toBe(200);
      expect(allowed.upstream?.['x-forwarded-for']).toBe('203.0.113.5, 10.1.1.1, 127.0.0.1');
      // an allow-listed address earlier in the list is only the client's claim
      expect((await through(gate, '/apps', '10.1.1.1, 203.0.113.5')).status).toBe(503);
      await expect.poll(gate.stderr).toMatch(/ path=\/apps host=127\.0\.0\.1:\d+ fwd=203\.0\.113\.5 role=web status=503$/m);
    } finally {
      await gate.stop();
    }
  });

  it('when HERALD_GATE_TRUST_PROXY=true, the gate trusts its proxy as with the flag; a value that is not true or false stops it with exit 2', async () => {
    const gate = await startGate([], { HERALD_GATE_TRUST_PROXY: 'true' });
    try {
      const allowed = await through(gate, '/apps', '203.0.113.5, 10.1.1.1');
      expect(allowed.status).toBe(200);
      expect(allowed.upstream?.['x-forwarded-for']).toBe('203.0.113.5, 10.1.1.1, 127.0.0.1');
    } finally {
      await gate.stop();
    }
    const off = await startGate([], { HERALD_GATE_TRUST_PROXY: 'false' });
    try {
      expect((await through(off, '/apps', '203.0.113.5, 10.1.1.1')).status).toBe(503);
    } finally {
      await off.stop();
    }
    const bad = await runHerald(['gate', '--upstream', upstreamUrl, '--role', 'web', '--port', '0', '--herald', heraldUrl], { HERALD_GATE_TRUST_PROXY: 'yes' });
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe('herald: HERALD_GATE_TRUST_PROXY must be true or false (got "yes")');
  });
});
