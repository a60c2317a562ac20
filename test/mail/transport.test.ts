import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.ts';
import type { Notice } from '../../src/delivery/notice.ts';
import { updateMail, type MailSubscriber, type OutgoingMail } from '../../src/mail/message.ts';
import { fileTransport, smtpTransport, type MailTransport } from '../../src/mail/transport.ts';

/**
 * The transports of src/mail/transport.ts against a real SMTP server (smtp-server) on 127.0.0.1,
 * a port nothing listens on, and servers that never answer or never finish answering. Every
 * received message is read back with mailparser.
 */

const SITE = { name: 'Acme Status', publicUrl: 'https://status.acme.test', from: 'status@acme.test' };
const JANE: MailSubscriber = {
  email: 'Jane.Doe@example.org',
  manageUrl: 'https://status.acme.test/subscriptions/manage/tok-m',
  unsubscribeUrl: 'https://status.acme.test/subscriptions/unsubscribe/tok-u',
  oneClickUrl: 'https://status.acme.test/subscriptions/one-click/tok-o',
};
const NOTICE: Notice = {
  type: 'incident.opened',
  occurred_at: '2024-03-05T10:00:02.000Z',
  page: { id: 'pg_1', name: 'Acme Status', url: 'https://status.acme.test', status: { indicator: 'minor', description: 'Minor Service Outage' } },
  incident: {
    id: 12,
    kind: 'incident',
    title: 'API errors',
    state: 'investigating',
    impact: 'major',
    url: 'https://status.acme.test/incidents/12',
    started_at: '2024-03-05T10:00:00.000Z',
    resolved_at: null,
    updated_at: '2024-03-05T10:00:00.000Z',
    scheduled_for: null,
    scheduled_until: null,
    components: [{ slug: 'api', name: 'API', status: 'orange' }],
    postmortem_published_at: null,
  },
  update: { id: 34, state: 'investigating', message: 'We are **investigating**.', at: '2024-03-05T10:00:00.000Z', author: 'alice' },
};
const mail = (): Promise<OutgoingMail> => updateMail(NOTICE, JANE, SITE);

// Everything a test opens, closed after it: transports first (a pooled connection holds the
// server's close open), then servers, then temporary directories.
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track<T extends MailTransport>(transport: T): T {
  cleanups.push(() => transport.close());
  return transport;
}

interface Received {
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: Buffer;
}

/** An SMTP server on a free port of 127.0.0.1 that keeps what it accepts. */
async function smtpServer(options: Partial<SMTPServerOptions> = {}): Promise<{ readonly port: number; readonly received: Received[] }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        callback();
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.server.address() as AddressInfo).port, received };
}

/** A TCP server that runs `talk` on each connection (nothing at all, by default) and never ends one itself. */
async function tcpServer(talk: (socket: Socket) => void = () => {}): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    talk(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on: bound, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An SMTP error as smtp-server sends it: `code message`. */
const smtpError = (responseCode: number, message: string) => Object.assign(new Error(message), { responseCode });

describe('smtpTransport', () => {
  it('when the server accepts, the mail arrives whole for the subscriber alone and parses', async () => {
    const server = await smtpServer();
    const transport = track(smtpTransport(`smtp://127.0.0.1:${server.port}`));
    const result = await transport.send(await mail());
    expect(result).toMatchObject({ ok: true });
    expect(server.received).toHaveLength(1);
    const [got] = server.received;
    expect(got!.from).toBe('status@acme.test');
    expect(got!.to).toEqual(['Jane.Doe@example.org']);
    const parsed = await simpleParser(got!.raw);
    expect(parsed.subject).toBe('[Acme Status] Investigating: API errors');
    expect(parsed.messageId).toMatch(/^<herald\.incident-12\.update-34\.sub-[0-9a-f]+@status\.acme\.test>$/);
    expect(parsed.text).toContain('We are **investigating**.');
    expect(parsed.html).toContain('We are <strong>investigating</strong>.');
    expect(parsed.headerLines.find((h) => h.key === 'list-unsubscribe-post')?.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
  });

  it('when the URL carries credentials, they log in (percent-encoded characters decoded)', async () => {
    const logins: string[] = [];
    const server = await smtpServer({
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        logins.push(`${auth.username}:${auth.password}`);
        if (auth.username === 'herald@acme.test' && auth.password === 'p:ss w@rd') callback(null, { user: 'herald' });
        else callback(smtpError(535, '5.7.8 Authentication failed'));
      },
    });
    const good = track(smtpTransport(`smtp://herald%40acme.test:p%3Ass%20w%40rd@127.0.0.1:${server.port}`));
    expect(await good.send(await mail())).toMatchObject({ ok: true });
    const bad = track(smtpTransport(`smtp://herald%40acme.test:wrong@127.0.0.1:${server.port}`));
    expect(await bad.send(await mail())).toEqual({ ok: false, permanent: false, error: expect.stringMatching(/535 5\.7\.8 Authentication failed/) });
    expect(server.received).toHaveLength(1);
    expect(logins).toEqual(['herald@acme.test:p:ss w@rd', 'herald@acme.test:wrong']);
  });

  it('when the server refuses the recipient with 550 at RCPT TO, it is a hard bounce, and the error does not name the address', async () => {
    const server = await smtpServer({ onRcptTo: (address, _session, callback) => callback(smtpError(550, `5.1.1 <${address.address}>: Recipient address rejected: User unknown`)) });
    const result = await track(smtpTransport(`smtp://127.0.0.1:${server.port}`)).send(await mail());
    expect(result).toEqual({ ok: false, permanent: true, error: 'RCPT TO refused: 550 5.1.1 <[address]>: Recipient address rejected: User unknown' });
    expect(server.received).toHaveLength(0);
  });

  it('when the server defers the recipient with 451, it is worth another try', async () => {
    const server = await smtpServer({ onRcptTo: (_address, _session, callback) => callback(smtpError(451, '4.7.1 Greylisted, try again in 5 minutes')) });
    const result = await track(smtpTransport(`smtp://127.0.0.1:${server.port}`)).send(await mail());
    expect(result).toEqual({ ok: false, permanent: false, error: 'RCPT TO refused: 451 4.7.1 Greylisted, try again in 5 minutes' });
  });

  it('when a 5xx at RCPT TO is a policy refusal (5.7.x: relaying denied), it is not a bounce: it would strike off every subscriber', async () => {
    const server = await smtpServer({ onRcptTo: (address, _session, callback) => callback(smtpError(554, `5.7.1 <${address.address}>: Relay access denied`)) });
    const result = await track(smtpTransport(`smtp://127.0.0.1:${server.port}`)).send(await mail());
    expect(result).toEqual({ ok: false, permanent: false, error: 'RCPT TO refused: 554 5.7.1 <[address]>: Relay access denied' });
  });

  it('when the server refuses the sender or the message (5xx at MAIL FROM or DATA), it is not a bounce of the address', async () => {
    const atMail = await smtpServer({ onMailFrom: (_address, _session, callback) => callback(smtpError(550, '5.1.0 Sender rejected')) });
    expect(await track(smtpTransport(`smtp://127.0.0.1:${atMail.port}`)).send(await mail())).toEqual({ ok: false, permanent: false, error: 'MAIL FROM refused: 550 5.1.0 Sender rejected' });
    const atData = await smtpServer({
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback(smtpError(554, '5.6.0 Message rejected')));
      },
    });
    expect(await track(smtpTransport(`smtp://127.0.0.1:${atData.port}`)).send(await mail())).toMatchObject({ ok: false, permanent: false, error: expect.stringMatching(/554 5\.6\.0 Message rejected/) });
  });

  it('when the server echoes the address in its answer, in any case, the error says [address] instead', async () => {
    const server = await smtpServer({ onRcptTo: (_address, _session, callback) => callback(smtpError(452, '4.2.2 jane.doe@EXAMPLE.org is over quota; also tried jane@backup.example.org')) });
    const result = await track(smtpTransport(`smtp://127.0.0.1:${server.port}`)).send(await mail());
    expect(result).toEqual({ ok: false, permanent: false, error: 'RCPT TO refused: 452 4.2.2 [address] is over quota; also tried [address]' });
  });

  it('when nothing listens (connection refused), it is worth another try', async () => {
    const port = await closedPort();
    const result = await track(smtpTransport(`smtp://127.0.0.1:${port}`)).send(await mail());
    expect(result).toEqual({ ok: false, permanent: false, error: `connection refused (smtp://127.0.0.1:${port})` });
  });

  it('when the server accepts the connection but never greets, the attempt ends after the timeout', async () => {
    const port = await tcpServer();
    const started = performance.now();
    const result = await track(smtpTransport(`smtp://127.0.0.1:${port}`, { timeoutMs: 300 })).send(await mail());
    expect(result).toEqual({ ok: false, permanent: false, error: `no answer from smtp://127.0.0.1:${port} within 0.3 s` });
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('when the server greets and then falls silent, the attempt ends after the timeout', async () => {
    const port = await tcpServer((socket) => socket.write('220 mail.acme.test ESMTP\r\n'));
    const result = await track(smtpTransport(`smtp://127.0.0.1:${port}`, { timeoutMs: 300 })).send(await mail());
    expect(result).toEqual({ ok: false, permanent: false, error: `no answer from smtp://127.0.0.1:${port} within 0.3 s` });
  });

  it('when the server drips a greeting that never ends (no wait is long), the whole attempt still ends at the deadline', async () => {
    const port = await tcpServer((socket) => {
      const drip = setInterval(() => socket.write('220-still here\r\n'), 50);
      socket.on('close', () => clearInterval(drip));
    });
    const started = performance.now();
    const result = await track(smtpTransport(`smtp://127.0.0.1:${port}`, { timeoutMs: 5_000, deadlineMs: 400 })).send(await mail());
    expect(result).toEqual({ ok: false, permanent: false, error: `gave up after 0.4 s (smtp://127.0.0.1:${port})` });
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('when many mails are sent at once, each arrives once over a few reused connections', async () => {
    let connections = 0;
    const server = await smtpServer({ onConnect: (_session, callback) => void (connections++, callback()) });
    const transport = track(smtpTransport(`smtp://127.0.0.1:${server.port}`, { maxConnections: 2 }));
    const subscribers = Array.from({ length: 20 }, (_, n) => ({ ...JANE, email: `reader${n}@example.org`, oneClickUrl: `${JANE.oneClickUrl}${n}` }));
    const results = await Promise.all(subscribers.map(async (s) => transport.send(await updateMail(NOTICE, s, SITE))));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(server.received.map((r) => r.to[0]).sort()).toEqual(subscribers.map((s) => s.email).sort());
    expect(connections).toBeLessThanOrEqual(2);
  });

  it('a URL that is not smtp:// or smtps:// is refused when the transport is made', () => {
    expect(() => smtpTransport('http://127.0.0.1:2525')).toThrow(/smtp:\/\/ or smtps:\/\//);
  });

  it("a failure names the server, never the URL's credentials", async () => {
    const port = await closedPort();
    const result = await track(smtpTransport(`smtp://user:secret@127.0.0.1:${port}`)).send(await mail());
    expect(result).toEqual({ ok: false, permanent: false, error: `connection refused (smtp://127.0.0.1:${port})` });
  });
});

describe('fileTransport', () => {
  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'herald-mail-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  it('writes each mail as a raw .eml file named by time and Message-ID, which parses as what would have been sent', async () => {
    const dir = join(await tempDir(), 'mail');
    const transport = track(fileTransport(dir, { clock: fixedClock('2024-03-05T10:00:03.456Z') }));
    const m = await mail();
    const result = await transport.send(m);
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    const name = files[0]!;
    expect(name).toMatch(/^2024-03-05T10-00-03\.456Z-herald\.incident-12\.update-34\.sub-[0-9a-f]+@status\.acme\.test\.eml$/);
    expect(result).toEqual({ ok: true, response: `written to ${name}` });
    const raw = await readFile(join(dir, name));
    expect(raw.toString('latin1')).toMatch(/^[^\n]*\r\n/); // CRLF, as on the wire
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe('[Acme Status] Investigating: API errors');
    expect(parsed.messageId).toBe(m.messageId);
    expect(parsed.to).toMatchObject({ value: [{ address: 'Jane.Doe@example.org' }] });
    expect(parsed.text).toContain('We are **investigating**.');
    expect(parsed.html).toContain('We are <strong>investigating</strong>.');
    expect(parsed.references).toBe('<herald.incident-12@status.acme.test>');
  });

  it('when the directory cannot be written, the send fails as worth another try', async () => {
    const blocked = join(await tempDir(), 'a-file');
    await writeFile(blocked, 'not a directory');
    const result = await fileTransport(join(blocked, 'mail')).send(await mail());
    expect(result).toMatchObject({ ok: false, permanent: false });
    expect(JSON.stringify(result)).not.toMatch(/jane/i);
  });
});
