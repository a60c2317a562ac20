import net from 'node:net';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';
import { exitedWithin, runHerald, startHerald, stopChild } from '../support/process.ts';

// SIGTERM must end `herald serve` whatever its clients and its database are doing: an
// orchestrator that restarts a stuck instance, or an operator at the keyboard, is waiting on it.

let child: ChildProcess | undefined;
let pg: ThrowawayPostgres | undefined;
const sockets: net.Socket[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const s of sockets.splice(0)) s.destroy();
  if (child) await stopChild(child, 'SIGKILL');
  child = undefined;
  await pg?.destroy();
  pg = undefined;
});

/** A connection that sends `bytes` and then nothing more, held open. */
async function halfRequest(url: string, bytes: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname === 'localhost' ? '127.0.0.1' : hostname);
  sockets.push(socket);
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(bytes);
  return socket;
}

describe('stopping herald serve', () => {
  it('a client that never finishes sending its request does not hold the stop: the server exits 0 after the grace for requests in flight', async () => {
    const herald = await startHerald({ PORT: String(await freePort()) });
    child = herald.child;
    const socket = await halfRequest(herald.url, 'GET / HTTP/1.1\r\nHost: status.example.com\r\n');
    await new Promise((r) => setTimeout(r, 300));
    const closed = new Promise((resolve) => socket.once('close', resolve));

    herald.child.kill('SIGTERM');
    // Node's own headers timeout alone would keep it for a minute.
    expect(await exitedWithin(herald.child, 15_000)).toBe(0);
    await closed;
    expect(herald.stderr()).not.toMatch(/could not stop in time/);
  });

  it('a request that completes within the grace is answered before the server exits', async () => {
    const herald = await startHerald({ PORT: String(await freePort()) });
    child = herald.child;
    const socket = await halfRequest(herald.url, 'GET /api/v1/status HTTP/1.1\r\nHost: status.example.com\r\n');
    let answer = '';
    socket.on('data', (d) => (answer += d));
    await new Promise((r) => setTimeout(r, 300));

    herald.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    socket.write('Connection: close\r\n\r\n');
    expect(await exitedWithin(herald.child, 15_000)).toBe(0);
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  it('a webhook receiver that does not answer does not hold the stop: the send is cut after its grace, exit 0, and the next start sends it again with the same id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-stop-webhook-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    let answering = false;
    const got: string[] = [];
    const held: ServerResponse[] = [];
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        got.push(String(req.headers['webhook-id']));
        if (answering) res.writeHead(200).end('ok');
        else held.push(res);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => { for (const r of held) r.destroy(); receiver.closeAllConnections(); receiver.close(resolve); }));
    const env = { HERALD_DATA_DIR: join(dir, 'data'), PORT: String(await freePort()), HERALD_WEBHOOK_ALLOW: '127.0.0.1' };
    const token = (await runHerald(['token:create', '--local', '--name', 'ops', '--scopes', 'admin'], env)).stdout.trim();
    const post = (base: string, path: string, body: unknown) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

    const first = await startHerald(env);
    child = first.child;
    expect((await post(first.url, '/api/v1/webhooks', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, events: ['incident.opened'] })).status).toBe(201);
    expect((await post(first.url, '/api/v1/incidents', { title: 'Receiver asleep', message: 'Looking.' })).status).toBe(201);
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(got).toHaveLength(1);

    first.child.kill('SIGTERM');
    // The send's own timeout is 10 s, the stop's deadline too: the cut comes 3 s into the stop.
    expect(await exitedWithin(first.child, 7_000)).toBe(0);
    expect(first.stderr()).not.toMatch(/could not stop in time/);

    answering = true;
    const second = await startHerald(env);
    child = second.child;
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([got[0], got[0]]);
  });

  it('a frozen Postgres does not hold the stop: past the deadline the server says what it waited for and exits 1', async () => {
    pg = await startThrowawayPostgres();
    await pg.createDatabase('herald');
    const herald = await startHerald({ PORT: String(await freePort()), DATABASE_URL: pg.url('herald') });
    child = herald.child;
    expect((await fetch(`${herald.url}/`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
    pg.freeze();
    await new Promise((r) => setTimeout(r, 300));

    herald.child.kill('SIGTERM');
    expect(await exitedWithin(herald.child, 20_000)).toBe(1);
    expect(herald.stderr()).toMatch(/level=error msg="could not stop in time; exiting anyway" within=10s waiting_for="the database to [^"]+"/);
  });
});
