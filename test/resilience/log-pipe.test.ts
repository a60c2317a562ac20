import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/throwaway-postgres.ts';
import { cpuTicks, exitedWithin, HERALD_BIN, startHerald, stopChild } from '../support/process.ts';

// Herald logs to stderr; in production that is often a pipe into a log shipper. When the shipper
// goes away, every write fails with EPIPE. That must cost the server its log lines, nothing more.

let child: ChildProcess | undefined;
const servers: http.Server[] = [];
afterEach(async () => {
  if (child) await stopChild(child, 'SIGKILL');
  child = undefined;
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('when the reader of herald serve\'s log goes away', () => {
  it('it goes on serving without spinning, and still stops cleanly on SIGTERM', async () => {
    const herald = await startHerald({ PORT: String(await freePort()) });
    child = herald.child;
    herald.child.stderr!.destroy();
    herald.child.stdout!.destroy();

    // Requests after the pipe closed; stopping logs a line, which then fails to reach anyone.
    for (let i = 0; i < 3; i++) expect((await fetch(`${herald.url}/`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
    const before = cpuTicks(herald.child.pid!);
    await new Promise((r) => setTimeout(r, 1000));
    // Idle: a server looping on a failed write would burn the whole second (100 ticks).
    expect(cpuTicks(herald.child.pid!) - before).toBeLessThan(50);
    expect((await fetch(`${herald.url}/readyz`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);

    herald.child.kill('SIGTERM');
    expect(await exitedWithin(herald.child, 10_000)).toBe(0);
  });
});

describe('when the reader of herald gate\'s log goes away', () => {
  it('it goes on passing requests to the API, and still stops cleanly on SIGTERM', async () => {
    const herald = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(`event: platform\ndata: ${JSON.stringify({ roles: [{ role: 'web', mode: 'full', retry_after: null, sources: [] }] })}\n\n`);
    });
    const upstream = await listen((_req, res) => res.end('from the API'));
    const args = ['gate', '--upstream', upstream.url, '--role', 'web', '--port', '0', '--hostname', '127.0.0.1', '--herald', herald.url];
    const gate = spawn(process.execPath, [HERALD_BIN, ...args], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child = gate;
    let stderr = '';
    const port = await new Promise<number>((resolve, reject) => {
      gate.stderr!.on('data', (d) => {
        stderr += d;
        const m = /msg="gate listening" url=http:\/\/localhost:(\d+)/.exec(stderr);
        if (m) resolve(Number(m[1]));
      });
      gate.once('exit', (code) => reject(new Error(`herald gate exited with ${code}:\n${stderr}`)));
    });
    gate.stderr!.destroy();
    gate.stdout!.destroy();

    // Herald goes away: the gate logs that it lost contact, into the closed pipe.
    herald.server.closeAllConnections();
    herald.server.close();
    await new Promise((r) => setTimeout(r, 1500));
    const through = await fetch(`http://127.0.0.1:${port}/v1/things`, { signal: AbortSignal.timeout(5000) });
    expect(await through.text()).toBe('from the API');
    expect(gate.exitCode).toBeNull();

    gate.kill('SIGTERM');
    expect(await exitedWithin(gate, 10_000)).toBe(0);
  });
});
