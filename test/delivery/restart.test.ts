import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runHerald, startHerald, stopChild } from '../support/process.ts';
import { freePort } from '../support/upstream.ts';

/**
 * The real `herald serve`, killed (SIGKILL, no goodbye) while a webhook waits for its retry, then
 * started again on the same data: the restarted process sends the waiting message, with the same
 * webhook-id, once.
 */
describe('webhooks across a restart', () => {
  it('when Herald is killed mid-backoff and started again, the message is retried by the new process with the same id, and arrives once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-restart-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const got: { id: string; type: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push({ id: String(req.headers['webhook-id']), type: JSON.parse(body).type });
        res.writeHead(got.length === 1 ? 503 : 200).end(got.length === 1 ? 'restarting' : 'ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const env = { HERALD_DATA_DIR: join(dir, 'data'), PORT: String(await freePort()), HERALD_WEBHOOK_ALLOW: '127.0.0.1' };
    const token = (await runHerald(['token:create', '--local', '--name', 'ops', '--scopes', 'admin'], env)).stdout.trim();
    const call = (base: string, path: string, body: unknown) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

    const first = await startHerald(env);
    onTestFinished(() => stopChild(first.child, 'SIGKILL'));
    expect((await call(first.url, '/api/v1/webhooks', { url, events: ['incident.opened'] })).status).toBe(201);
    expect((await call(first.url, '/api/v1/incidents', { title: 'Killed mid-backoff', message: 'Looking.' })).status).toBe(201);
    // Killed once the failed attempt is on record: the retry is due in about 5 s (±20 %).
    const failures = async () => ((await (await fetch(`${first.url}/api/v1/webhooks/1`, { headers: { authorization: `Bearer ${token}` } })).json()) as { failures: number }).failures;
    for (let i = 0; i < 200 && (got.length === 0 || (await failures()) === 0); i++) await new Promise((r) => setTimeout(r, 100));
    expect(got).toHaveLength(1);
    await stopChild(first.child, 'SIGKILL');

    const second = await startHerald(env);
    onTestFinished(() => stopChild(second.child));
    for (let i = 0; i < 150 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1_500)); // time for a duplicate, were there one
    expect(got.map((g) => g.type)).toEqual(['incident.opened', 'incident.opened']);
    expect(got[1]!.id).toBe(got[0]!.id);
  });
});
