import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { DispatchLoop } from '../../src/delivery/loop.ts';
import { parseAllowList } from '../../src/delivery/address-policy.ts';
import { send } from '../../src/delivery/send.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { testApp } from '../support/app.ts';
import { freshDatabase } from '../support/db.ts';

/**
 * The push side end to end: writes through the API, the dispatcher sending the outbox to real
 * HTTP receivers on 127.0.0.1 (allowed by HERALD_WEBHOOK_ALLOW), signatures checked with the
 * Standard Webhooks reference library. Time moves on the test's clock, so retries hours apart
 * take no real time.
 */

interface Received {
  readonly id: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly json: any;
}

/** A receiver answering with `answer(n)` for its n-th request (0-based); `null` never answers. */
async function receiver(answer: (n: number) => number | null = () => 200, port = 0) {
  const got: Received[] = [];
  const hanging: ServerResponse[] = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const status = answer(n++);
      got.push({ id: String(req.headers['webhook-id']), headers: req.headers, body, json: JSON.parse(body) });
      if (status === null) return void hanging.push(res);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : `trouble ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  onTestFinished(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, port: (server.address() as AddressInfo).port, got, close };
}

let handle: DatabaseHandle;
beforeAll(async () => {
  handle = await freshDatabase();
});
afterAll(async () => handle.close());

const ALLOW = '127.0.0.1';

async function setup(options: { timeoutMs?: number; env?: Record<string, string> } = {}) {
  const t = await testApp(handle, { HERALD_WEBHOOK_ALLOW: ALLOW, HERALD_ENVIRONMENTS: 'api:API,db:Database', ...options.env });
  const token = await t.token(['admin']);
  const policy = { allow: parseAllowList(ALLOW), timeoutMs: options.timeoutMs ?? 5_000, maxResponseBytes: 65_536 };
  const dispatcher = (sender = 'test') => new Dispatcher({ db: t.db, clock: t.clock, config: t.config, send: (d) => send(d, policy), sender });
  const created: number[] = [];
  onTestFinished(async () => {
    for (const id of created) await t.call('DELETE', `/api/v1/webhooks/${id}`, { token });
  });
  return {
    t,
    token,
    dispatcher,
    async subscribe(body: Record<string, unknown>) {
      const res = await t.call('POST', '/api/v1/webhooks', { token, body });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      created.push(res.body.id);
      return res.body as { id: number; secret: string };
    },
    open: (body: Record<string, unknown> = {}) => t.call('POST', '/api/v1/incidents', { token, body: { title: 'API errors', message: 'Investigating.', statuses: { api: 'red' }, ...body } }),
    post: (id: number, body: Record<string, unknown>) => t.call('POST', `/api/v1/incidents/${id}/updates`, { token, body }),
    /** Moves the clock on by `ms`. */
    later(ms: number) {
      t.clock.set(new Date(t.clock.now().getTime() + ms).toISOString());
    },
  };
}

const verify = (secret: string, r: Received) =>
  new Webhook(secret).verify(r.body, { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) });

describe('webhooks', () => {
  it('when an incident is opened, updated and resolved, the receiver gets three signed messages in that order', async () => {
    const s = await setup();
    const r = await receiver();
    const sub = await s.subscribe({ url: r.url, events: ['incident.opened', 'incident.updated', 'incident.resolved'] });
    const opened = await s.open();
    await s.post(opened.body.id, { state: 'identified', message: 'A bad deploy.' });
    await s.post(opened.body.id, { state: 'resolved', message: 'Rolled back.', statuses: { api: 'green' } });
    // Signatures carry the time, which the reference library checks against the real clock.
    s.t.clock.set(new Date().toISOString());
    const pass = await s.dispatcher().pass();
    expect(pass.delivered).toBe(3);
    expect(r.got.map((g) => g.json.type)).toEqual(['incident.opened', 'incident.updated', 'incident.resolved']);
    expect(r.got.map((g) => g.json.update.message)).toEqual(['Investigating.', 'A bad deploy.', 'Rolled back.']);
    for (const g of r.got) expect(verify(sub.secret, g)).toBeTruthy();
    expect(r.got[0]!.json).toMatchObject({ version: 1, id: r.got[0]!.id, incident: { id: opened.body.id, title: 'API errors', url: `https://status.example.com/incidents/${opened.body.id}` } });
    expect(new Set(r.got.map((g) => g.id)).size).toBe(3);
  });

  it('when the receiver answers 500, the same message (same webhook-id) is retried after the backoff, not before, and the log keeps both attempts', async () => {
    const s = await setup();
    const r = await receiver((n) => (n === 0 ? 500 : 200));
    const sub = await s.subscribe({ url: r.url, events: ['incident.opened'] });
    await s.open();
    const failed = await s.dispatcher().pass();
    expect(r.got).toHaveLength(1);
    // the pass says when to look again: the first retry is 5 s ± 20 %
    expect(failed.dueInMs).toBeGreaterThanOrEqual(4_000);
    expect(failed.dueInMs).toBeLessThanOrEqual(6_000);
    await s.dispatcher().pass();
    expect(r.got).toHaveLength(1); // not due yet
    s.later(10_000);
    const retried = await s.dispatcher().pass();
    expect(r.got).toHaveLength(2);
    expect(retried.dueInMs).toBeNull(); // nothing left to send
    expect(r.got[1]!.id).toBe(r.got[0]!.id);
    const log = await s.t.call('GET', `/api/v1/webhooks/${sub.id}/attempts`, { token: s.token });
    expect(log.body.map((a: { status: number; error: string | null }) => [a.status, a.error])).toEqual([
      [200, null],
      [500, 'HTTP 500'],
    ]);
    expect(log.body[1].excerpt).toBe('trouble 500');
  });

  it('when the receiver does not answer in time, the attempt is logged as timed out and retried', async () => {
    const s = await setup({ timeoutMs: 300 });
    const r = await receiver((n) => (n === 0 ? null : 200));
    const sub = await s.subscribe({ url: r.url, events: ['incident.opened'] });
    await s.open();
    await s.dispatcher().pass();
    s.later(10_000);
    await s.dispatcher().pass();
    const log = await s.t.call('GET', `/api/v1/webhooks/${sub.id}/attempts`, { token: s.token });
    expect(log.body[1].error).toMatch(/timed out/);
    expect(log.body[0].status).toBe(200);
  });

  it('when a stop cuts a send the receiver has not answered, nothing is recorded and the message is due again at once, same id', async () => {
    const s = await setup();
    const r = await receiver((n) => (n === 0 ? null : 200));
    const sub = await s.subscribe({ url: r.url, events: ['incident.opened'] });
    await s.open();
    const cut = new AbortController();
    const passing = s.dispatcher().pass(() => cut.signal.aborted, cut.signal);
    while (r.got.length === 0) await new Promise((x) => setTimeout(x, 10));
    cut.abort();
    expect(await passing).toMatchObject({ attempted: 0, delivered: 0, dueInMs: null });
    expect((await s.t.call('GET', `/api/v1/webhooks/${sub.id}/attempts`, { token: s.token })).body).toEqual([]);
    // the lease is handed back: the next pass, at the same moment, sends it
    const again = await s.dispatcher('another').pass();
    expect(again.delivered).toBe(1);
    expect(r.got.map((g) => g.id)).toEqual([r.got[0]!.id, r.got[0]!.id]);
    const log = await s.t.call('GET', `/api/v1/webhooks/${sub.id}/attempts`, { token: s.token });
    expect(log.body.map((a: { status: number }) => a.status)).toEqual([200]);
  });

  it('when the receiver is down for hours then back, everything arrives, in order, nothing twice, and a restarted dispatcher carries on', async () => {
    const s = await setup();
    const first = await receiver();
    const port = first.port;
    const url = first.url;
    await first.close();
    await s.subscribe({ url, events: ['incident.opened', 'incident.updated', 'incident.resolved'] });
    const opened = await s.open();
    await s.post(opened.body.id, { message: 'Still looking.' });
    await s.post(opened.body.id, { state: 'resolved', message: 'Fixed.', statuses: { api: 'green' } });
    for (let i = 0; i < 5; i++) {
      await s.dispatcher(`instance-${i}`).pass(); // a new dispatcher each time: a restart mid-backoff
      s.later(20 * 60_000);
    }
    const back = await receiver(() => 200, port);
    s.later(6 * 3_600_000);
    const pass = await s.dispatcher('after-restart').pass();
    expect(pass.delivered).toBe(3);
    expect(back.got.map((g) => g.json.update.message)).toEqual(['Investigating.', 'Still looking.', 'Fixed.']);
    expect(new Set(back.got.map((g) => g.id)).size).toBe(3);
  });

  it('two dispatchers passing at once send each message exactly once', async () => {
    const s = await setup();
    const receivers = await Promise.all(Array.from({ length: 6 }, () => receiver()));
    for (const r of receivers) await s.subscribe({ url: r.url, events: ['incident.opened', 'incident.updated'] });
    const opened = await s.open();
    for (let i = 0; i < 3; i++) await s.post(opened.body.id, { message: `Update ${i}.` });
    const [a, b] = await Promise.all([s.dispatcher('one').pass(), s.dispatcher('two').pass()]);
    expect(a.delivered + b.delivered).toBe(24);
    for (const r of receivers) {
      expect(r.got.map((g) => g.json.update.message)).toEqual(['Investigating.', 'Update 0.', 'Update 1.', 'Update 2.']);
      expect(new Set(r.got.map((g) => g.id)).size).toBe(4);
    }
    const attempts = await s.t.db.selectFrom('webhook_attempts').select(['delivery_id']).where('status', '=', 200).execute();
    const ids = attempts.map((x) => x.delivery_id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("while another sender holds a subscription's lease, its due message waits, and the pass says when the lease ends", async () => {
    const s = await setup();
    const r = await receiver();
    const sub = await s.subscribe({ url: r.url, events: ['incident.opened'] });
    await s.open();
    const until = new Date(s.t.clock.now().getTime() + 30_000);
    await s.t.db.updateTable('webhook_subscriptions').set({ lease_until: until, lease_owner: 'elsewhere' }).where('id', '=', sub.id).execute();
    const held = await s.dispatcher().pass();
    expect(r.got).toHaveLength(0);
    expect(held.dueInMs).toBe(30_000);
    s.later(30_001);
    await s.dispatcher().pass();
    expect(r.got).toHaveLength(1);
  });

  it('when the loop is stopped with a backlog, it stops after the delivery under way; the rest is sent later, once', async () => {
    const s = await setup();
    const r = await receiver();
    await s.subscribe({ url: r.url, events: ['incident.updated'] });
    const opened = await s.open();
    for (let i = 0; i < 20; i++) await s.post(opened.body.id, { message: `Update ${i}.` });
    const dispatcher = new Dispatcher({
      db: s.t.db,
      clock: s.t.clock,
      config: s.t.config,
      send: async (d) => {
        await new Promise((x) => setTimeout(x, 100));
        return send(d, { allow: parseAllowList(ALLOW), timeoutMs: 5_000, maxResponseBytes: 65_536 });
      },
      sender: 'slow',
    });
    const loop = new DispatchLoop(dispatcher);
    loop.start();
    while (r.got.length < 2) await new Promise((x) => setTimeout(x, 20));
    const asked = performance.now();
    await loop.stop();
    expect(performance.now() - asked).toBeLessThan(1_000);
    const sent = r.got.length;
    expect(sent).toBeLessThan(20);
    await s.dispatcher().pass();
    expect(r.got.map((g) => g.json.update.message)).toEqual(Array.from({ length: 20 }, (_, i) => `Update ${i}.`));
  });

  it('refuses a URL on a private or loopback address unless HERALD_WEBHOOK_ALLOW names it, listing the problem', async () => {
    const t = await testApp(handle, {});
    const token = await t.token(['admin']);
    for (const url of ['http://127.0.0.1:9/hook', 'http://10.0.0.8/hook', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'ftp://example.com/x']) {
      const res = await t.call('POST', '/api/v1/webhooks', { token, body: { url, format: 'slack', events: ['nope'] } });
      expect(res.status, url).toBe(400);
      const paths = res.body.errors.map((p: { path: string }) => p.path);
      expect(paths, url).toContain('url');
      // every problem listed, not only the first
      if (!url.startsWith('ftp')) expect(paths, url).toContain('events.0');
    }
  });

  it('an update posted with notify: false sends nothing; the next one does', async () => {
    const s = await setup();
    const r = await receiver();
    await s.subscribe({ url: r.url, events: ['incident.updated', 'component.status_changed'] });
    const opened = await s.open({ notify: false });
    await s.post(opened.body.id, { message: 'Typo fixed.', statuses: { api: 'yellow' }, notify: false });
    await s.dispatcher().pass();
    expect(r.got).toHaveLength(0);
    await s.post(opened.body.id, { message: 'Better now.' });
    await s.dispatcher().pass();
    expect(r.got.map((g) => g.json.update?.message)).toEqual(['Better now.']);
  });

  it('a subscription following one component gets the notices that concern it, and not the others', async () => {
    const s = await setup();
    const r = await receiver();
    await s.subscribe({ url: r.url, events: ['incident.opened', 'component.status_changed'], environments: ['db'] });
    await s.open({ title: 'API only', statuses: { api: 'red' } });
    await s.open({ title: 'Database too', statuses: { db: 'orange' } });
    await s.dispatcher().pass();
    expect(r.got.map((g) => [g.json.type, g.json.incident?.title])).toEqual([
      ['incident.opened', 'Database too'],
      ['component.status_changed', 'Database too'],
    ]);
    expect(r.got[1]!.json.component).toEqual({ slug: 'db', name: 'Database', old_status: 'green', new_status: 'orange' });
  });

  it('a subscription may follow a component added after start-up, and not an unknown one', async () => {
    const s = await setup();
    const added = await s.t.call('POST', '/api/v1/components', { token: s.token, body: { slug: 'cdn', name: 'CDN' } });
    expect(added.status).toBe(201);
    onTestFinished(async () => void (await s.t.call('POST', '/api/v1/components/cdn/retire', { token: s.token })));
    const r = await receiver();
    await s.subscribe({ url: r.url, environments: ['cdn'] });
    const refused = await s.t.call('POST', '/api/v1/webhooks', { token: s.token, body: { url: r.url, environments: ['nope'] } });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([expect.objectContaining({ path: 'environments.0', message: expect.stringContaining('unknown component "nope"') })]);
  });

  it('after a day of failures the subscription is disabled with the reason; enabling it sends what is still due', async () => {
    const s = await setup();
    let up = false;
    const r = await receiver(() => (up ? 200 : 503));
    const sub = await s.subscribe({ url: r.url, events: ['incident.opened'] });
    await s.open();
    for (let i = 0; i < 12; i++) {
      await s.dispatcher().pass();
      s.later(9 * 3_600_000);
    }
    const view = await s.t.call('GET', `/api/v1/webhooks/${sub.id}`, { token: s.token });
    expect(view.body).toMatchObject({ state: 'disabled', pending: 1 });
    expect(view.body.disabled_reason).toMatch(/attempts in a row failed since .*HTTP 503/);
    const tried = r.got.length;
    await s.dispatcher().pass();
    expect(r.got).toHaveLength(tried); // disabled: nothing sent
    up = true;
    const woken = s.t.queued();
    const enabled = await s.t.call('POST', `/api/v1/webhooks/${sub.id}/enable`, { token: s.token });
    expect(enabled.body).toMatchObject({ state: 'active', failures: 0 });
    expect(s.t.queued()).toBe(woken + 1); // a server's delivery loop is woken for the backlog
    await s.dispatcher().pass();
    expect(r.got.at(-1)!.json.type).toBe('incident.opened');
    expect((await s.t.call('GET', `/api/v1/webhooks/${sub.id}`, { token: s.token })).body.pending).toBe(0);
  });

  it('after a secret is rotated, messages verify with the new secret and, during the overlap, with the old one', async () => {
    const s = await setup();
    const r = await receiver();
    // Signatures carry the time, which the reference library checks against the real clock.
    s.t.clock.set(new Date().toISOString());
    const sub = await s.subscribe({ url: r.url, events: ['incident.opened'] });
    const rotated = await s.t.call('POST', `/api/v1/webhooks/${sub.id}/rotate-secret`, { token: s.token, body: { overlap_hours: 1 } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(sub.secret);
    await s.open();
    await s.dispatcher().pass();
    expect(verify(rotated.body.secret, r.got[0]!)).toBeTruthy();
    expect(verify(sub.secret, r.got[0]!)).toBeTruthy();
    // the secret is never shown again
    const listed = await s.t.call('GET', '/api/v1/webhooks', { token: s.token });
    expect(JSON.stringify(listed.body)).not.toContain(rotated.body.secret);
    // rotated with no overlap, only the new secret signs
    const again = await s.t.call('POST', `/api/v1/webhooks/${sub.id}/rotate-secret`, { token: s.token, body: { overlap_hours: 0 } });
    await s.open({ title: 'Second' });
    await s.dispatcher().pass();
    expect(verify(again.body.secret, r.got[1]!)).toBeTruthy();
    expect(() => verify(rotated.body.secret, r.got[1]!)).toThrow(/No matching signature/);
  });

  it('"send a test event" delivers a message marked test and answers with what the receiver said', async () => {
    const s = await setup();
    const r = await receiver();
    const sub = await s.subscribe({ url: r.url, format: 'slack', events: ['incident.opened'] });
    const dispatcher = s.dispatcher();
    let done = false;
    const pumping = (async () => {
      while (!done) {
        await dispatcher.pass();
        await new Promise((x) => setTimeout(x, 50));
      }
    })();
    const res = await s.t.call('POST', `/api/v1/webhooks/${sub.id}/test`, { token: s.token });
    done = true;
    await pumping;
    expect(res.status).toBe(200);
    expect(res.body.attempt).toMatchObject({ status: 200, error: null });
    expect(r.got).toHaveLength(1);
    expect(r.got[0]!.json.text).toMatch(/Test message from Herald/);
  });
});
