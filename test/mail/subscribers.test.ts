import { createServer, type Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { MailDispatcher } from '../../src/mail/dispatcher.ts';
import { smtpTransport, type MailTransport } from '../../src/mail/transport.ts';
import { freshDatabase } from '../support/db.ts';
import { testApp } from '../support/app.ts';
import { freePort } from '../support/upstream.ts';

/**
 * Email subscribers end to end, in process: the public sign-up form, the mail dispatcher sending
 * through a real SMTP server (smtp-server on 127.0.0.1), every received message read back with
 * mailparser, and the links in it followed as a visitor would.
 */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Inbox {
  readonly port: number;
  readonly mails: ParsedMail[];
  /** Answers RCPT for these addresses with 550. */
  readonly refuse: Set<string>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function smtpSink(): Promise<Inbox> {
  const port = await freePort();
  const mails: ParsedMail[] = [];
  const refuse = new Set<string>();
  let server: SMTPServer | undefined;
  const inbox: Inbox = {
    port,
    mails,
    refuse,
    async start() {
      server = new SMTPServer({
        logger: false,
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        onRcptTo(address, _session, callback) {
          if (refuse.has(address.address.toLowerCase())) return callback(Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 }));
          callback();
        },
        onData(stream, _session, callback) {
          simpleParser(stream).then((parsed) => {
            mails.push(parsed);
            callback();
          }, callback);
        },
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  await inbox.start();
  cleanups.push(() => inbox.stop());
  return inbox;
}

async function fresh() {
  const handle: DatabaseHandle = await freshDatabase();
  cleanups.push(() => handle.close());
  const t = await testApp(handle, { HERALD_ENVIRONMENTS: 'production:Production,staging:Staging', HERALD_NAME: 'Acme' });
  const inbox = await smtpSink();
  const transport: MailTransport = smtpTransport(`smtp://127.0.0.1:${inbox.port}`, { timeoutMs: 2_000, deadlineMs: 5_000 });
  cleanups.push(() => transport.close());
  const dispatcher = new MailDispatcher({ ...t.deps, transport, site: { name: 'Acme', publicUrl: t.config.publicUrl, from: 'status@example.com' } });
  const commander = await t.token(['incidents:write'], 'alice');
  const admin = await t.token(['admin'], 'ops');
  /** A browser's form post (same-origin), following nothing. */
  const form = (path: string, fields: Record<string, string | string[]> = {}, headers: Record<string, string> = { 'sec-fetch-site': 'same-origin' }) => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
    return t.app.request(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: body.toString() });
  };
  /** Sends what is due (twice: a pass queues, the next finds nothing more). */
  const deliver = async () => {
    const first = await dispatcher.pass();
    await dispatcher.pass();
    return first;
  };
  const linkIn = (mail: ParsedMail, pattern: RegExp) => {
    const m = pattern.exec(mail.text ?? '');
    if (!m) throw new Error(`no link ${pattern} in:\n${mail.text}`);
    return new URL(m[0]).pathname;
  };
  /** Subscribes and confirms `email`; returns the manage page's path. */
  const subscribed = async (email: string, components: string[] = []) => {
    await form('/subscribe', { email, components });
    await deliver();
    const confirmation = inbox.mails.findLast((m) => m.to && JSON.stringify(m.to).includes(email))!;
    const confirm = await form(linkIn(confirmation, /https:\/\/status\.example\.com\/subscriptions\/confirm\/\S+/));
    expect(confirm.status).toBe(303);
    return new URL(confirm.headers.get('location')!, 'https://status.example.com').pathname;
  };
  const open = (body: Record<string, unknown>) => t.call('POST', '/api/v1/incidents', { token: commander, body: { title: 'API errors', message: 'Investigating.', ...body } });
  return { ...t, inbox, dispatcher, form, deliver, linkIn, subscribed, open, admin };
}

/** A header's value as sent (unfolded). */
const header = (m: ParsedMail, name: string) => (m.headerLines.find((h) => h.key === name)?.line ?? '').replace(/^[^:]+:\s*/, '').replace(/\r?\n\s+/g, ' ');

const to = (m: ParsedMail) => (Array.isArray(m.to) ? m.to : [m.to]).flatMap((a) => a?.value.map((v) => v.address) ?? []);

describe('signing up', () => {
  it('when a visitor subscribes, a confirmation mail comes and nothing else until it is confirmed; confirming leads to the manage page', async () => {
    const t = await fresh();
    const page = await t.form('/subscribe', { email: 'jane@example.org', components: ['production'] });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Check your inbox');
    expect(t.queued()).toBe(1); // a server's mail loop is woken for the confirmation
    await t.open({ statuses: { production: 'red' } });
    await t.deliver();
    expect(t.inbox.mails).toHaveLength(1);
    const [confirmation] = t.inbox.mails;
    expect(confirmation!.subject).toBe('[Acme] Confirm your subscription');
    expect(to(confirmation!)).toEqual(['jane@example.org']);
    const confirmPath = t.linkIn(confirmation!, /https:\/\/status\.example\.com\/subscriptions\/confirm\/\S+/);
    // Following the link changes nothing (mail scanners follow links); the button does.
    const shown = await t.app.request(confirmPath);
    expect(await shown.text()).toContain('Confirm my subscription');
    const confirmed = await t.form(confirmPath);
    expect(confirmed.status).toBe(303);
    const manage = await t.app.request(confirmed.headers.get('location')!);
    expect(await manage.text()).toContain('Your subscription is confirmed.');
    // The incident before confirmation was not mailed; the next update is.
    await t.call('POST', '/api/v1/incidents/1/updates', { token: await t.token(['incidents:write'], 'bob'), body: { message: 'Identified: a bad deploy.', state: 'identified' } });
    await t.deliver();
    expect(t.inbox.mails.map((m) => m.subject)).toEqual(['[Acme] Confirm your subscription', '[Acme] Identified: API errors']);
  });

  it('when the address is already subscribed, the page answers the same and the owner gets a manage link, not a second subscription', async () => {
    const t = await fresh();
    await t.subscribed('jane@example.org');
    const again = await t.form('/subscribe', { email: 'Jane@Example.org' });
    expect(await again.text()).toContain('Check your inbox');
    await t.deliver();
    expect(t.inbox.mails.at(-1)!.subject).toBe('[Acme] You are already subscribed');
    expect((await t.call('GET', '/api/v1/subscribers', { token: t.admin })).body).toMatchObject({ count: 1, confirmed: 1 });
  });

  it('when the address is not one, the form says so beside the field and keeps what was typed; nothing is queued', async () => {
    const t = await fresh();
    const res = await t.form('/subscribe', { email: 'jane at example', components: ['production', 'nowhere'] });
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('is not an email address');
    expect(html).toContain('unknown component');
    expect(html).toContain('value="jane at example"');
    await t.deliver();
    expect(t.inbox.mails).toEqual([]);
  });

  it('when one address signs up more than 3 times in an hour, the 4th is refused with 429', async () => {
    const t = await fresh();
    for (let i = 0; i < 3; i++) expect((await t.form('/subscribe', { email: 'jane@example.org' })).status).toBe(200);
    const fourth = await t.form('/subscribe', { email: 'jane@example.org' });
    expect(fourth.status).toBe(429);
    expect(fourth.headers.get('retry-after')).toBe('3600');
    t.clock.advance(61 * 60_000);
    expect((await t.form('/subscribe', { email: 'jane@example.org' })).status).toBe(200);
  });

  it('when another site posts the form, it is refused and nothing is saved', async () => {
    const t = await fresh();
    expect((await t.form('/subscribe', { email: 'jane@example.org' }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await t.form('/subscribe', { email: 'jane@example.org' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/subscribers', { token: t.admin })).body.count).toBe(0);
  });
});

describe('what is sent', () => {
  it('when an incident names a component, only its followers (and those following everything) get it, with both parts, RFC 8058 headers and one thread', async () => {
    const t = await fresh();
    await t.subscribed('prod@example.org', ['production']);
    await t.subscribed('stage@example.org', ['staging']);
    await t.subscribed('all@example.org');
    const before = t.inbox.mails.length;
    await t.open({ title: 'Checkout <script>alert(1)</script> errors', statuses: { production: 'red' }, message: 'Investigating **now** <img src=x onerror=alert(1)>.' });
    await t.call('POST', '/api/v1/incidents/1/updates', { token: await t.token(['incidents:write'], 'bob'), body: { message: 'Fixed.', state: 'resolved', statuses: { production: 'green' } } });
    await t.deliver();
    const sent = t.inbox.mails.slice(before);
    expect(sent.flatMap(to).sort()).toEqual(['all@example.org', 'all@example.org', 'prod@example.org', 'prod@example.org']);
    const [first, second] = sent.filter((m) => to(m)[0] === 'prod@example.org');
    expect(first!.subject).toBe('[Acme] Investigating: Checkout <script>alert(1)</script> errors');
    expect(first!.text).toContain('Investigating **now**');
    expect(first!.html).not.toMatch(/<script|<[^>]*\son\w+\s*=/i);
    expect(first!.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(header(first!, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(header(first!, 'list-unsubscribe')).toMatch(/^<https:\/\/status\.example\.com\/subscriptions\/unsubscribe\/[^>]+>$/);
    expect(second!.references).toEqual(first!.references);
    expect(second!.messageId).not.toBe(first!.messageId);
  });

  it('when an update is posted with notify: false, no mail goes out', async () => {
    const t = await fresh();
    await t.subscribed('jane@example.org');
    const before = t.inbox.mails.length;
    await t.open({ notify: false, statuses: { production: 'yellow' } });
    await t.deliver();
    expect(t.inbox.mails.length).toBe(before);
  });

  it('when the one-click POST of List-Unsubscribe arrives, the address is removed and gets nothing more', async () => {
    const t = await fresh();
    await t.subscribed('jane@example.org');
    await t.open({});
    await t.deliver();
    const mail = t.inbox.mails.at(-1)!;
    const url = new URL(/<([^>]+)>/.exec(header(mail, 'list-unsubscribe'))![1]!);
    // As a mail provider sends it: no Origin, no cookies, the RFC 8058 body.
    const res = await t.app.request(url.pathname, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(res.status).toBe(200);
    expect((await t.call('GET', '/api/v1/subscribers', { token: t.admin })).body.count).toBe(0);
    const audit = await t.db.selectFrom('audit_log').select(['action', 'before', 'after']).where('action', '=', 'subscriber.unsubscribe').execute();
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain('jane@example.org');
    const before = t.inbox.mails.length;
    await t.call('POST', '/api/v1/incidents/1/updates', { token: await t.token(['incidents:write'], 'bob'), body: { message: 'More.' } });
    await t.deliver();
    expect(t.inbox.mails.length).toBe(before);
  });

  it('when the server refuses an address with 550, it is marked bounced and gets nothing more; others still get theirs', async () => {
    const t = await fresh();
    await t.subscribed('gone@example.org');
    await t.subscribed('jane@example.org');
    t.inbox.refuse.add('gone@example.org');
    await t.open({});
    await t.deliver();
    const list = (await t.call('GET', '/api/v1/subscribers', { token: t.admin })).body.subscribers;
    expect(list.find((s: any) => s.email === 'gone@example.org').state).toBe('bounced');
    expect(t.inbox.mails.at(-1)!.subject).toBe('[Acme] Investigating: API errors');
    expect(to(t.inbox.mails.at(-1)!)).toEqual(['jane@example.org']);
  });

  it('when the SMTP server is down for a while, the mails wait and each arrives once when it is back', async () => {
    const t = await fresh();
    await t.subscribed('jane@example.org');
    await t.subscribed('joe@example.org');
    const before = t.inbox.mails.length;
    await t.inbox.stop();
    await t.open({});
    const down = await t.deliver();
    expect(down.delivered).toBe(0);
    // the pass says when to look again: the first retry is 30 s ± 20 %
    expect(down.dueInMs).toBeGreaterThanOrEqual(24_000);
    expect(down.dueInMs).toBeLessThanOrEqual(36_000);
    await t.inbox.start();
    await t.deliver();
    expect(t.inbox.mails.length).toBe(before); // retries wait their backoff
    t.clock.advance(10 * 60_000);
    await t.deliver();
    t.clock.advance(10 * 60_000);
    await t.deliver();
    const arrived = t.inbox.mails.slice(before);
    expect(arrived.flatMap(to).sort()).toEqual(['jane@example.org', 'joe@example.org']);
  });
});

describe('commanders', () => {
  it('when a stop cuts a send the SMTP server has not answered, nothing is recorded and the batch is due again at once, then sent once', async () => {
    const t = await fresh();
    await t.subscribed('jane@example.org');
    await t.subscribed('joe@example.org');
    const before = t.inbox.mails.length;
    await t.open({});
    // An SMTP server that takes the connection and never greets.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => { for (const s of sockets) s.destroy(); silent.close(resolve); }));
    const transport = smtpTransport(`smtp://127.0.0.1:${(silent.address() as { port: number }).port}`, { timeoutMs: 30_000, deadlineMs: 60_000 });
    cleanups.push(() => transport.close());
    const stuck = new MailDispatcher({ ...t.deps, transport, concurrency: 1, site: { name: 'Acme', publicUrl: t.config.publicUrl, from: 'status@example.com' } });
    const cut = new AbortController();
    const passing = stuck.pass(() => cut.signal.aborted, cut.signal);
    while (sockets.size === 0) await new Promise((x) => setTimeout(x, 10));
    cut.abort();
    expect(await passing).toMatchObject({ attempted: 0, delivered: 0 });
    const queued = await t.db.selectFrom('mail_deliveries').select(['attempts', 'next_attempt_at', 'delivered_at']).where('kind', '=', 'notice').execute();
    expect(queued).toHaveLength(2);
    for (const q of queued) {
      expect(q).toMatchObject({ attempts: 0, delivered_at: null });
      expect(q.next_attempt_at.getTime()).toBeLessThanOrEqual(t.clock.now().getTime()); // not left claimed for 15 minutes
    }
    await t.deliver();
    expect(t.inbox.mails.slice(before).flatMap(to).sort()).toEqual(['jane@example.org', 'joe@example.org']);
  });

  it('when a list is imported it is confirmed without mail; export gives it back as CSV; removing one forgets the address', async () => {
    const t = await fresh();
    const imported = await t.call('POST', '/api/v1/subscribers/import', {
      token: t.admin,
      raw: 'email,components\r\na@example.org,production\r\n"b@example.org",\r\nA@example.org,\r\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(imported.body).toEqual({ imported: 2, existing: 0 });
    await t.deliver();
    expect(t.inbox.mails).toEqual([]);
    const csv = await t.app.request('/api/v1/subscribers/export.csv', { headers: { authorization: `Bearer ${t.admin}` } });
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('email,state,components,created_at,confirmed_at');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual(['a@example.org,confirmed,production', 'b@example.org,confirmed,']);
    const bad = await t.call('POST', '/api/v1/subscribers/import', { token: t.admin, body: { subscribers: [{ email: 'nope' }, { email: 'c@example.org', components: ['mars'] }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: any) => e.path)).toEqual(['subscribers.0.email', 'subscribers.1.components.0']);
    const id = (await t.call('GET', '/api/v1/subscribers', { token: t.admin })).body.subscribers[0].id;
    expect((await t.call('DELETE', `/api/v1/subscribers/${id}`, { token: t.admin })).status).toBe(204);
    expect((await t.call('GET', '/api/v1/subscribers', { token: t.admin })).body.count).toBe(1);
    expect(JSON.stringify(await t.db.selectFrom('subscribers').selectAll().where('id', '=', id).execute())).not.toContain('a@example.org');
  });
});
