import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HERALD_BIN, runHerald, startHerald, stopChild } from '../support/process.ts';
import { freePort, startUpstream, waitFor, type Upstream } from '../support/upstream.ts';

/**
 * The real processes, as they run in production: two `herald serve` on one Postgres (a change
 * posted to one reaches the other through LISTEN/NOTIFY), and one `herald gate` in front of an
 * upstream, following Herald A. Then Herald A dies under the running gate (fail-static) and
 * comes back (the gate catches up).
 *
 * Without a Postgres to reach, the embedded database cannot be shared by two processes: the
 * same story runs with one Herald process, which is both A and B.
 */

const STATUS_URL = 'https://status.example.com';
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

type Herald = Awaited<ReturnType<typeof startHerald>>;

interface GateProcess {
  child: ChildProcess;
  url: string;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `herald gate ...` and resolves once it logs that it listens. */
async function startGateProcess(args: string[]): Promise<GateProcess> {
  const child = spawn(process.execPath, [HERALD_BIN, 'gate', ...args], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`herald gate did not start:\n${stderr}`)), 30_000);
    const check = () => {
      const m = /msg="gate listening" url=http:\/\/localhost:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`herald gate exited with ${code}:\n${stderr}`));
    });
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    stop: () => stopChild(child),
  };
}

/** Whether a Postgres answers at ADMIN_URL (within 2 s). */
async function postgresAnswers(): Promise<boolean> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function adminQuery(sql: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

let backend: 'postgres' | 'pglite';
let dbName: string | undefined;
let dataDir: string | undefined;
let envA: Record<string, string>;
let envB: Record<string, string>;
let portA: number;
let urlA: string;
let urlB: string;
let heraldA: Herald | undefined;
let heraldB: Herald | undefined;
let gate: GateProcess | undefined;
let upstream: Upstream;
let token: string;

beforeAll(async () => {
  backend = (await postgresAnswers()) ? 'postgres' : 'pglite';
  portA = await freePort();
  if (backend === 'postgres') {
    dbName = `herald_mp_${randomBytes(6).toString('hex')}`;
    await adminQuery(`create database ${dbName}`);
    const target = new URL(ADMIN_URL);
    target.pathname = `/${dbName}`;
    const databaseUrl = target.toString();
    const portB = await freePort();
    envA = { DATABASE_URL: databaseUrl, PORT: String(portA), PUBLIC_URL: STATUS_URL };
    envB = { DATABASE_URL: databaseUrl, PORT: String(portB), PUBLIC_URL: STATUS_URL };
  } else {
    console.warn(`multi-process gate test: no Postgres answers at ${ADMIN_URL}; running with one Herald process on the embedded database`);
    dataDir = await mkdtemp(join(tmpdir(), 'herald-mp-'));
    envA = { HERALD_DATA_DIR: join(dataDir, 'data'), PORT: String(portA), PUBLIC_URL: STATUS_URL };
    envB = envA;
  }
  // token:create migrates the database first; on PGlite it must run before the server holds it
  const created = await runHerald(['token:create', '--name', 'mp-admin', '--scopes', 'admin'], envA);
  expect(created.code, created.stderr).toBe(0);
  token = created.stdout.trim();

  [heraldA, heraldB] = await Promise.all([startHerald(envA), backend === 'postgres' ? startHerald(envB) : Promise.resolve(undefined)]);
  heraldB ??= heraldA;
  urlA = `http://127.0.0.1:${portA}`;
  urlB = `http://127.0.0.1:${envB.PORT}`;
  upstream = await startUpstream();
  gate = await startGateProcess(['--upstream', upstream.url, '--role', 'web', '--port', '0', '--herald', urlA, '--status-url', STATUS_URL, '--allow-path', '/healthz']);
}, 90_000);

afterAll(async () => {
  await gate?.stop();
  await Promise.all([heraldA, heraldB].filter((h, i, all): h is Herald => h !== undefined && all.indexOf(h) === i).map((h) => stopChild(h.child)));
  await upstream?.close();
  if (dbName) await adminQuery(`drop database if exists ${dbName} with (force)`).catch((e) => console.warn(`could not drop ${dbName}: ${e}`));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 30_000);

async function override(base: string, method: 'PUT' | 'DELETE', body: object) {
  const res = await fetch(`${base}/api/v1/platform/roles/web/override`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { role: { mode: string } };
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

/** The mode the gate acts on, read from an allowlisted path (it passes and carries the mode header). */
async function gateMode(): Promise<string | null> {
  const res = await fetch(`${gate!.url}/healthz`, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.headers.get('platform-mode');
}

async function through(method = 'POST') {
  const res = await fetch(`${gate!.url}/apps/1`, { method, headers: { accept: 'application/json' }, signal: AbortSignal.timeout(2000) });
  const text = await res.text();
  return { status: res.status, mode: res.headers.get('platform-mode'), body: text };
}

async function webOn(base: string): Promise<{ mode: string; sources: { title: string }[] }> {
  const res = await fetch(`${base}/api/v1/platform?role=web`, { signal: AbortSignal.timeout(2000) });
  return ((await res.json()) as { roles: { mode: string; sources: { title: string }[] }[] }).roles[0]!;
}

describe('herald gate and two Herald processes on one database', () => {
  it('when a mode change is posted to Herald B, the gate following A refuses within 1 s, and A shows it; cleared, the gate passes again', async () => {
    const before = await through();
    expect(before.status).toBe(200);
    expect(before.mode).toBe('full');

    await override(urlB, 'PUT', { mode: 'maintenance', reason: 'Posted to B' });
    const refused = await waitFor(async () => (await gateMode()) === 'maintenance', 5000, 20);
    expect(refused.ms, `gate took ${Math.round(refused.ms)} ms`).toBeLessThan(1000);
    const r = await through();
    expect(r.status).toBe(503);
    expect(r.mode).toBe('maintenance');
    expect(JSON.parse(r.body)).toMatchObject({ id: 'maintenance', message: expect.stringContaining(STATUS_URL) });
    // A learnt it through LISTEN/NOTIFY: its own API says so
    const onA = await webOn(urlA);
    expect(onA.mode).toBe('maintenance');
    expect(onA.sources.map((s) => s.title)).toEqual(['Posted to B']);

    await override(urlB, 'DELETE', { reason: 'done on B' });
    const passed = await waitFor(async () => (await through()).status === 200, 5000, 20);
    expect(passed.ms, `gate took ${Math.round(passed.ms)} ms`).toBeLessThan(1000);
    console.info(`multi-process (${backend}): gate refused ${Math.round(refused.ms)} ms after the write on B, passed ${Math.round(passed.ms)} ms after the clear`);
    expect((await webOn(urlA)).mode).toBe('full');
    expect(gate!.stderr()).toMatch(/code=H80 desc="Maintenance mode" method=POST path=\/apps\/1 /);
  });

  it('when Herald A is killed under the gate, the gate keeps refusing and says it lost Herald; when A is back and the override is cleared on B, the gate catches up', async () => {
    await override(urlA, 'PUT', { mode: 'maintenance', reason: 'Before the crash' });
    await waitFor(async () => (await gateMode()) === 'maintenance', 3000, 20);

    await stopChild(heraldA!.child, 'SIGKILL');
    const lost = await waitFor(() => gate!.stderr().includes('lost contact with Herald'), 5000, 20);
    const lostAt = gate!.stderr().indexOf('lost contact with Herald');
    expect(lost.ms).toBeLessThan(5000);
    expect(gate!.stderr().split('\n').filter((l) => l.includes('lost contact with Herald'))).toContainEqual(expect.stringMatching(/^level=warn msg="lost contact with Herald; keeping the last known modes" modes=[^ ]*web:maintenance/));

    // fail-static: for a while with A gone, every request still gets the last known mode
    for (let i = 0; i < 5; i++) {
      const r = await through(i % 2 ? 'GET' : 'DELETE');
      expect(r.status).toBe(503);
      expect(r.mode).toBe('maintenance');
      expect(JSON.parse(r.body)).toMatchObject({ id: 'maintenance' });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(gate!.stderr()).toMatch(/code=H80 desc="Maintenance mode"[^\n]* stale=true/);
    expect(gate!.child.exitCode).toBeNull();

    // A comes back on the same port and database; the override is cleared on B
    const restarted = performance.now();
    heraldA = await startHerald(envA);
    if (backend === 'pglite') heraldB = heraldA;
    await override(urlB, 'DELETE', { reason: 'after the crash' });
    const caught = await waitFor(async () => (await through()).status === 200, 15_000, 50);
    const sinceRestart = performance.now() - restarted;
    expect(caught.ms, `gate caught up ${Math.round(caught.ms)} ms after the clear (${Math.round(sinceRestart)} ms after the restart began)`).toBeLessThan(8000);
    expect((await through()).mode).toBe('full');
    expect(gate!.stderr().slice(lostAt)).toContain('in contact with Herald');
    console.info(`multi-process (${backend}): lost contact noticed in ${Math.round(lost.ms)} ms; caught up ${Math.round(caught.ms)} ms after the clear, ${Math.round(sinceRestart)} ms after the restart began`);
  }, 60_000);
});
