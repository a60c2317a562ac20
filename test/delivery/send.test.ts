import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { fetchSend } from '../../src/delivery/send-fetch.ts';
import { checkDestination, parseAllowList, send, type Attempt, type Destination, type Resolver, type SendPolicy } from '../../src/delivery/send.ts';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** Settles when every connection the receiver accepted so far has closed. */
  connectionsClosed(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1, closed when the test finishes. */
async function receiver(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<Receiver> {
  const received: Received[] = [];
  const closings: Promise<void>[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      answer(req, res);
    });
  });
  server.on('connection', (socket) => closings.push(new Promise((resolve) => socket.once('close', () => resolve()))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, connectionsClosed: async () => void (await Promise.all(closings)) };
}

/** A port nothing listens on: bound, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function policy(allow: string | undefined, overrides: Partial<SendPolicy> = {}): SendPolicy {
  return { allow: parseAllowList(allow), timeoutMs: 5_000, maxResponseBytes: 65_536, ...overrides };
}

function destination(url: string, headers: Record<string, string> = {}): Destination {
  return { url, headers: { 'webhook-id': 'msg_1', ...headers }, body: '{"type":"incident.opened"}' };
}

/** A resolver for names that must not be looked up at all. */
const noDns: Resolver = async (host) => {
  throw new Error(`resolved ${host}`);
};

const answering = (addresses: readonly string[]): Resolver => async () => addresses;

/** Streams 16 KiB chunks until the client hangs up. */
function streamForever(res: ServerResponse): void {
  const chunk = Buffer.alloc(16_384, 'x');
  res.writeHead(200, { 'content-type': 'text/plain' });
  const pump = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
}

type Sender = (dest: Destination, policy: SendPolicy) => Promise<Attempt>;
const senders: readonly (readonly [string, Sender])[] = [
  ['send (node:http)', (dest, p) => send(dest, p)],
  ['fetchSend (Workers)', fetchSend],
];

describe.each(senders)('%s', (_name, sender) => {
  it('when 127.0.0.1 is allowed, the receiver gets the body and headers, and the attempt is ok with the answer', async () => {
    const hook = await receiver((_req, res) => res.writeHead(202).end('thanks'));
    const attempt = await sender(destination(`${hook.url}/hooks?x=1`, { 'webhook-signature': 'v1,abc' }), policy('127.0.0.1'));

    expect(attempt).toMatchObject({ ok: true, status: 202, excerpt: 'thanks', error: null });
    expect(attempt.latencyMs).toBeGreaterThanOrEqual(0);
    expect(hook.received).toHaveLength(1);
    const [got] = hook.received;
    expect(got).toMatchObject({ method: 'POST', url: '/hooks?x=1', body: '{"type":"incident.opened"}' });
    expect(got!.headers).toMatchObject({
      host: new URL(hook.url).host,
      'user-agent': 'Herald-Webhooks/1',
      'content-type': 'application/json',
      'webhook-id': 'msg_1',
      'webhook-signature': 'v1,abc',
    });
  });

  it('when the caller gives a content type, it replaces the default', async () => {
    const hook = await receiver((_req, res) => res.end());
    await sender(destination(hook.url, { 'Content-Type': 'application/x-www-form-urlencoded' }), policy('127.0.0.1'));
    expect(hook.received[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('when 127.0.0.1 is not allowed, the attempt is refused and the receiver gets nothing', async () => {
    const hook = await receiver((_req, res) => res.end());
    const attempt = await sender(destination(hook.url), policy(undefined));
    expect(attempt).toMatchObject({ ok: false, status: null, error: 'refused: 127.0.0.1 is a loopback address' });
    expect(hook.received).toHaveLength(0);
  });

  it('when the receiver redirects, the redirect is not followed and the attempt names the Location', async () => {
    const target = await receiver((_req, res) => res.end('moved here'));
    const hook = await receiver((_req, res) => res.writeHead(302, { location: `${target.url}/next` }).end());
    const attempt = await sender(destination(hook.url), policy('127.0.0.1'));

    expect(attempt).toMatchObject({ ok: false, status: 302, error: `redirect to ${target.url}/next not followed` });
    expect(hook.received).toHaveLength(1);
    expect(target.received).toHaveLength(0);
  });

  it('when the receiver never answers, the attempt times out within timeoutMs and hangs up', async () => {
    const hook = await receiver(() => {});
    const attempt = await sender(destination(hook.url), policy('127.0.0.1', { timeoutMs: 300 }));

    expect(attempt).toMatchObject({ ok: false, status: null, error: 'timed out after 0.3 s' });
    expect(attempt.latencyMs).toBeGreaterThanOrEqual(250);
    expect(attempt.latencyMs).toBeLessThan(2_000);
    await hook.connectionsClosed();
  });

  it('when the receiver streams an endless body, the attempt stops at the cap with a 1,024-byte excerpt and hangs up', async () => {
    const hook = await receiver((_req, res) => streamForever(res));
    const attempt = await sender(destination(hook.url), policy('127.0.0.1', { timeoutMs: 10_000, maxResponseBytes: 65_536 }));

    expect(attempt).toMatchObject({ ok: true, status: 200, error: null, excerpt: 'x'.repeat(1_024) });
    expect(attempt.latencyMs).toBeLessThan(5_000);
    await hook.connectionsClosed();
  });

  it('when nothing listens on the port, the attempt says the connection was refused', async () => {
    const port = await closedPort();
    const attempt = await sender(destination(`http://127.0.0.1:${port}/`), policy('127.0.0.1'));
    expect(attempt).toMatchObject({ ok: false, status: null, excerpt: '', error: 'connection refused' });
  });

  it('when the receiver answers 500, the attempt fails with the status and an excerpt of the body', async () => {
    const hook = await receiver((_req, res) => res.writeHead(500).end('database down'));
    const attempt = await sender(destination(hook.url), policy('127.0.0.1'));
    expect(attempt).toMatchObject({ ok: false, status: 500, excerpt: 'database down', error: 'HTTP 500' });
  });

  it('when the answer cuts a character at 1,024 bytes, the excerpt keeps the whole characters before it', async () => {
    const hook = await receiver((_req, res) => res.end(`a${'é'.repeat(1_000)}`));
    const attempt = await sender(destination(hook.url), policy('127.0.0.1'));
    expect(attempt.excerpt).toBe(`a${'é'.repeat(511)}`);
  });

  it('when the receiver answers 200 but its body never ends, the attempt is judged by the status at the deadline', async () => {
    const hook = await receiver((_req, res) => {
      res.writeHead(200);
      res.write('accepted, but');
    });
    const attempt = await sender(destination(hook.url), policy('127.0.0.1', { timeoutMs: 300 }));
    expect(attempt).toMatchObject({ ok: true, status: 200, excerpt: 'accepted, but', error: null });
    await hook.connectionsClosed();
  });

  it('when a header value cannot be sent, the attempt fails in words instead of throwing', async () => {
    const hook = await receiver((_req, res) => res.end());
    const attempt = await sender(destination(hook.url, { 'x-bad': 'one\r\ntwo' }), policy('127.0.0.1'));
    expect(attempt.ok).toBe(false);
    expect(attempt.error).toEqual(expect.any(String));
    expect(hook.received).toHaveLength(0);
  });
});

describe('checkDestination', () => {
  const refusals: readonly (readonly [string, string])[] = [
    ['http://[::1]/', 'refused: ::1 is a loopback address'],
    ['http://[::ffff:127.0.0.1]/', 'refused: ::ffff:7f00:1 is a loopback address'],
    ['http://2130706433/', 'refused: 127.0.0.1 is a loopback address'],
    ['http://0x7f.1/', 'refused: 127.0.0.1 is a loopback address'],
    ['http://0177.0.0.1/', 'refused: 127.0.0.1 is a loopback address'],
    ['http://10.0.0.5/', 'refused: 10.0.0.5 is a private address'],
    ['http://172.16.9.9/', 'refused: 172.16.9.9 is a private address'],
    ['https://192.168.1.1/', 'refused: 192.168.1.1 is a private address'],
    ['http://169.254.169.254/latest/meta-data/', 'refused: 169.254.169.254 is a link-local address'],
    ['http://100.64.0.1/', 'refused: 100.64.0.1 is a carrier-grade NAT address'],
    ['http://[fc00::1]/', 'refused: fc00::1 is a unique-local address'],
    ['http://[fe80::1]/', 'refused: fe80::1 is a link-local address'],
    ['http://0.0.0.0/', 'refused: 0.0.0.0 is an unspecified address'],
    ['http://[::]/', 'refused: :: is an unspecified address'],
    ['http://224.0.0.1/', 'refused: 224.0.0.1 is a multicast address'],
    ['http://255.255.255.255/', 'refused: 255.255.255.255 is the broadcast address'],
    ['http://240.0.0.1/', 'refused: 240.0.0.1 is a reserved address'],
    ['http://[2001:db8::1]/', 'refused: 2001:db8::1 is a reserved address'],
    ['http://[::7f00:1]/', 'refused: ::7f00:1 is a reserved address'],
    ['http://[2002:a00:5::]/', 'refused: 2002:a00:5:: is a 6to4 address for 10.0.0.5, a private address'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'refused: 64:ff9b::a9fe:a9fe is a NAT64 address for 169.254.169.254, a link-local address'],
    ['http://[2001:0:4136:e378:8000:63bf:f5ff:fffa]/', 'refused: 2001:0:4136:e378:8000:63bf:f5ff:fffa is a Teredo address for 10.0.0.5, a private address'],
    ['ftp://example.com/', 'refused: only http and https URLs can receive webhooks, not ftp:'],
    ['file:///etc/passwd', 'refused: only http and https URLs can receive webhooks, not file:'],
    ['https://user:pw@example.com/', 'refused: a URL with a user name or password is not accepted'],
    ['example.com/hooks', 'refused: not a valid URL'],
  ];

  it.each(refusals)('refuses %s without looking up DNS', async (url, reason) => {
    expect(await checkDestination(url, policy(undefined), noDns)).toBe(reason);
  });

  it('refuses localhost, as the system resolves it', async () => {
    expect(await checkDestination('http://localhost:8080/', policy(undefined))).toMatch(/^refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address$/);
  });

  it('when a public name resolves to a private address among public ones, it is refused (DNS rebinding)', async () => {
    const reason = await checkDestination('https://hooks.example.com/', policy(undefined), answering(['93.184.216.34', '10.0.0.5']));
    expect(reason).toBe('refused: hooks.example.com resolves to 10.0.0.5, a private address');
  });

  it('when a name resolves only to public addresses, it passes', async () => {
    expect(await checkDestination('https://hooks.example.com/x', policy(undefined), answering(['93.184.216.34', '2606:2800:220:1::']))).toBeNull();
    expect(await checkDestination('http://93.184.216.34:8080/', policy(undefined), noDns)).toBeNull();
    expect(await checkDestination('http://[2606:2800:220:1::]/', policy(undefined), noDns)).toBeNull();
    expect(await checkDestination('http://[::ffff:93.184.216.34]/', policy(undefined), noDns)).toBeNull();
  });

  it('when the name does not resolve, it says so', async () => {
    const missing: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    expect(await checkDestination('https://nowhere.example/', policy(undefined), missing)).toBe('host nowhere.example not found');
    expect(await checkDestination('https://nowhere.example/', policy(undefined), answering([]))).toBe('host nowhere.example not found');
  });

  it('when the address or the host name is on the allow list, a private destination passes', async () => {
    const allow = policy('10.0.0.0/8, hooks.internal.example');
    expect(await checkDestination('http://10.1.2.3/', allow, noDns)).toBeNull();
    expect(await checkDestination('http://[::ffff:10.1.2.3]/', allow, noDns)).toBeNull();
    expect(await checkDestination('http://hooks.internal.example/', allow, answering(['192.168.1.1']))).toBeNull();
    expect(await checkDestination('http://other.internal.example/', allow, answering(['192.168.1.1']))).toBe(
      'refused: other.internal.example resolves to 192.168.1.1, a private address',
    );
    expect(await checkDestination('http://11.0.0.1.nip.example/', allow, answering(['10.0.0.9']))).toBeNull();
  });
});

describe('send, against DNS', () => {
  it('connects to the address it vetted, keeping the URL host name in Host', async () => {
    const hook = await receiver((_req, res) => res.end('ok'));
    const port = new URL(hook.url).port;
    // hooks.invalid resolves nowhere: only the vetted address can have reached the receiver.
    const attempt = await send(destination(`http://hooks.invalid:${port}/in`), policy('127.0.0.1'), answering(['127.0.0.1']));

    expect(attempt).toMatchObject({ ok: true, status: 200, excerpt: 'ok' });
    expect(hook.received[0]!.headers.host).toBe(`hooks.invalid:${port}`);
  });

  it('when a name passed at subscription but resolves to loopback at send time, the send is refused', async () => {
    const hook = await receiver((_req, res) => res.end());
    const port = new URL(hook.url).port;
    const answers = [['93.184.216.34'], ['127.0.0.1']];
    const rebinding: Resolver = async () => answers.shift() ?? [];
    const url = `http://hooks.example.com:${port}/`;

    expect(await checkDestination(url, policy(undefined), rebinding)).toBeNull();
    const attempt = await send(destination(url), policy(undefined), rebinding);
    expect(attempt).toMatchObject({ ok: false, status: null, error: 'refused: hooks.example.com resolves to 127.0.0.1, a loopback address' });
    expect(hook.received).toHaveLength(0);
  });

  it('when DNS never answers, the attempt times out', async () => {
    const attempt = await send(destination('https://slow.example/'), policy(undefined, { timeoutMs: 200 }), () => new Promise(() => {}));
    expect(attempt).toMatchObject({ ok: false, status: null, error: 'timed out after 0.2 s' });
  });
});

describe('fetchSend, without DNS', () => {
  it.each([
    ['http://localhost:9/', 'refused: localhost is not a public host name'],
    ['http://api.localhost/', 'refused: api.localhost is not a public host name'],
    ['http://intranet/', 'refused: intranet is not a public host name'],
    ['http://printer.local/', 'refused: printer.local is not a public host name'],
    ['http://2130706433/', 'refused: 127.0.0.1 is a loopback address'],
    ['http://169.254.169.254/', 'refused: 169.254.169.254 is a link-local address'],
    ['gopher://example.com/', 'refused: only http and https URLs can receive webhooks, not gopher:'],
  ])('refuses %s', async (url, reason) => {
    expect(await fetchSend(destination(url), policy(undefined))).toMatchObject({ ok: false, status: null, error: reason });
  });

  it('when localhost is on the allow list by name, it is sent to', async () => {
    const hook = await receiver((_req, res) => res.end('ok'));
    const attempt = await fetchSend(destination(hook.url.replace('127.0.0.1', 'localhost')), policy('localhost'));
    expect(attempt).toMatchObject({ ok: true, status: 200, excerpt: 'ok' });
  });
});

describe('parseAllowList', () => {
  it('reads addresses, ranges and host names, separated by commas', async () => {
    const allow = policy(' 127.0.0.1, ::1 ,10.0.0.0/8, fd00::/8, Hooks.Internal.Example. ,');
    expect(allow.allow.ranges).toHaveLength(4);
    expect([...allow.allow.hosts]).toEqual(['hooks.internal.example']);
    for (const url of ['http://127.0.0.1/', 'http://[::1]/', 'http://10.200.0.1/', 'http://[fd00::5]/']) {
      expect(await checkDestination(url, allow, noDns)).toBeNull();
    }
    expect(await checkDestination('http://hooks.internal.example./', allow, answering(['10.9.9.9']))).toBeNull();
    expect(await checkDestination('http://127.0.0.2/', allow, noDns)).toBe('refused: 127.0.0.2 is a loopback address');
  });

  it('when the setting is unset or empty, nothing beyond public addresses is allowed', () => {
    expect(parseAllowList(undefined)).toEqual({ ranges: [], hosts: new Set() });
    expect(parseAllowList(' , ')).toEqual({ ranges: [], hosts: new Set() });
  });

  it.each([
    ['10.0.0.0/33', 'is not an IP address or CIDR range'],
    ['0177.0.0.1', 'is not an IP address or CIDR range'],
    ['10.1', 'is not an IP address or CIDR range'],
    ['0x7f.1', 'is not an IP address or CIDR range'],
    ['[::1]', 'is not an IP address or CIDR range'],
    ['http://hooks.example', 'is not an IP address or CIDR range'],
    ['hooks_internal', 'is not an IP address, CIDR range or host name'],
    ['hooks..example', 'is not an IP address, CIDR range or host name'],
    ['-hooks.example', 'is not an IP address, CIDR range or host name'],
    ['*.example.com', 'is not an IP address, CIDR range or host name'],
  ])('refuses the entry %s, naming it', (entry, words) => {
    expect(() => parseAllowList(`127.0.0.1, ${entry}`)).toThrow(`HERALD_WEBHOOK_ALLOW: "${entry}" ${words}`);
  });
});
