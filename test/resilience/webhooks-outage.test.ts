import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHerald, startHerald, stopChild } from '../support/process.ts';
import { freePort, startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

/**
 * Webhooks while the database crashes: a real `herald serve` on a Postgres cluster of this
 * file's own, 20 subscriptions on a receiver on 127.0.0.1, a commander posting an update every
 * 100 ms, and the database crashed (no checkpoint) in the middle, then started again.
 *
 * Every update acknowledged with a 201 reaches every subscription, once by id: a message may
 * arrive twice only with the same webhook-id (at least once: an attempt whose record the crash
 * lost is sent again), never as two messages. The server process lives throughout, and nothing
 * reaches the last-resort error guard.
 */

const SUBSCRIPTIONS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(process.env.TEST_DATABASE_URL)('when the database crashes while webhooks are being sent', () => {
  let cluster: ThrowawayPostgres;
  let herald: Awaited<ReturnType<typeof startHerald>>;
  const received = new Map<string, { id: string; message: string }[]>();
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const list = received.get(req.url!) ?? [];
      list.push({ id: String(req.headers['webhook-id']), message: JSON.parse(body).update?.message ?? '' });
      received.set(req.url!, list);
      res.end('ok');
    });
  });

  beforeAll(async () => {
    cluster = await startThrowawayPostgres();
    await cluster.createDatabase('herald');
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const env = { DATABASE_URL: cluster.url('herald'), PORT: String(await freePort()), HERALD_WEBHOOK_ALLOW: '127.0.0.1' };
    const created = await runHerald(['token:create', '--name', 'drill', '--scopes', 'admin'], env);
    expect(created.code, created.stderr).toBe(0);
    herald = await startHerald(env);
    (herald as { token?: string }).token = created.stdout.trim();
  }, 120_000);

  afterAll(async () => {
    if (herald) await stopChild(herald.child);
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await cluster?.destroy();
  });

  it('every acknowledged update reaches every subscription, once by webhook-id, and the process lives on', async () => {
    const token = (herald as { token?: string }).token!;
    const post = (path: string, body: unknown) =>
      fetch(`${herald.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(20_000) }).then(
        async (r) => ({ status: r.status, body: (await r.json().catch(() => null)) as { id?: number } | null }),
        () => ({ status: 0, body: null }),
      );
    const port = (receiver.address() as AddressInfo).port;
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      const made = await post('/api/v1/webhooks', { url: `http://127.0.0.1:${port}/s${i}`, events: ['incident.updated'] });
      expect(made.status).toBe(201);
    }
    const opened = await post('/api/v1/incidents', { title: 'Crash drill', message: 'Opened.' });
    expect(opened.status).toBe(201);
    const id = opened.body!.id!;

    const acknowledged: string[] = [];
    let posting = true;
    const commander = (async () => {
      for (let n = 0; posting; n++) {
        const message = `Update ${n}.`;
        const r = await post(`/api/v1/incidents/${id}/updates`, { message });
        if (r.status === 201) acknowledged.push(message);
        await sleep(100);
      }
    })();
    await sleep(2_000);
    await cluster.stop('immediate');
    await sleep(2_000);
    await cluster.start();
    await sleep(3_000);
    posting = false;
    await commander;
    expect(acknowledged.length).toBeGreaterThan(10);

    // Deliveries that failed during the outage are retried after their backoff (5 s, 30 s …).
    const complete = () => [...Array(SUBSCRIPTIONS).keys()].every((i) => acknowledged.every((m) => (received.get(`/s${i}`) ?? []).some((r) => r.message === m)));
    for (let waited = 0; waited < 90_000 && !complete(); waited += 500) await sleep(500);
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      const got = received.get(`/s${i}`) ?? [];
      const messages = new Set(got.map((r) => r.message));
      for (const m of acknowledged) expect(messages.has(m), `/s${i} lacks "${m}"`).toBe(true);
      // one id per message: a repeat, if any, is the same message under the same id
      const idsOf = new Map<string, Set<string>>();
      for (const r of got) idsOf.set(r.message, (idsOf.get(r.message) ?? new Set()).add(r.id));
      for (const [m, ids] of idsOf) expect(ids.size, `/s${i} got "${m}" under ${ids.size} ids`).toBe(1);
    }
    expect(herald.child.exitCode).toBeNull();
    expect(herald.stderr()).not.toContain('unhandled error survived');
  }, 180_000);

  it('two herald processes on one Postgres send each delivery once: one successful attempt per delivery in the log, every message once', async () => {
    const token = (herald as { token?: string }).token!;
    const second = await startHerald({ DATABASE_URL: cluster.url('herald'), PORT: String(await freePort()), HERALD_WEBHOOK_ALLOW: '127.0.0.1' });
    try {
      const post = (base: string, path: string, body: unknown) =>
        fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { id: number } }));
      const port = (receiver.address() as AddressInfo).port;
      const paths = Array.from({ length: 12 }, (_, i) => `/two-${i}`);
      for (const path of paths) expect((await post(herald.url, '/api/v1/webhooks', { url: `http://127.0.0.1:${port}${path}`, events: ['incident.opened', 'incident.updated'] })).status).toBe(201);
      // Writes go to both processes, so both wake up and compete for the same deliveries.
      const opened = await post(second.url, '/api/v1/incidents', { title: 'Two senders', message: 'Opened.' });
      const messages = ['Opened.'];
      for (let n = 0; n < 10; n++) {
        const message = `Two ${n}.`;
        expect((await post(n % 2 ? herald.url : second.url, `/api/v1/incidents/${opened.body.id}/updates`, { message })).status).toBe(201);
        messages.push(message);
      }
      const done = () => paths.every((p) => (received.get(p) ?? []).length >= messages.length);
      for (let waited = 0; waited < 30_000 && !done(); waited += 200) await sleep(200);
      await sleep(1_000); // time for a duplicate, were there one
      for (const p of paths) expect((received.get(p) ?? []).map((r) => r.message), p).toEqual(messages);
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: cluster.url('herald') });
      await client.connect();
      try {
        const { rows } = await client.query<{ ok: string; deliveries: string }>(
          `select count(*) filter (where a.status between 200 and 299) as ok, count(distinct a.delivery_id) as deliveries
           from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id join webhook_subscriptions s on s.id = d.subscription_id
           where s.url like $1`,
          [`%/two-%`],
        );
        expect(Number(rows[0]!.ok)).toBe(paths.length * messages.length);
        expect(Number(rows[0]!.deliveries)).toBe(paths.length * messages.length);
      } finally {
        await client.end();
      }
      expect(second.child.exitCode).toBeNull();
    } finally {
      await stopChild(second.child);
    }
  }, 120_000);
});
