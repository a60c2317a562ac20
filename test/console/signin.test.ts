import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { findToken } from '../../src/db/queries/tokens.ts';
import { createSigninLink, recordSigninFailure } from '../../src/services/sessions.ts';
import { actorOf } from '../../src/services/tokens.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';
import { consoleClient, inputValue } from '../support/console.ts';

/**
 * Signing in to the console: the session cookie, failed sign-ins per address, expiry, sign-out,
 * CSRF on every form, one-time links, and revoked tokens. Times are set by hand on t.clock.
 */

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let root: string; // admin

beforeAll(async () => {
  handle = await freshDatabase();
  t = await testApp(handle);
  root = await t.token(['admin'], 'root');
});
afterAll(async () => handle.close());

type Client = ReturnType<typeof consoleClient>;

/** The Set-Cookie line of the session cookie (plain or __Host-), if the response set one. */
const sessionCookieLine = (headers: Headers) => headers.getSetCookie().find((l) => /^(__Host-)?herald_session=/.test(l));

/** Signs in through the form from `address`; returns the client and the sign-in response. */
async function signIn(address: string, token: string, next = '/console/tokens') {
  const b = consoleClient(t, address);
  await b.get('/console/signin');
  const res = await b.post('/console/signin', { token, next });
  expect(res.status, res.html.slice(0, 500)).toBe(303);
  return { b, res };
}

/** Who the client is signed in as (from the layout's "Sign out NAME"), or null when refused. */
async function whoAmI(b: Client, headers: Record<string, string> = {}, url = '/console/tokens'): Promise<string | null> {
  const res = await b.get(url, headers);
  if (res.status === 303) {
    expect(res.headers.get('location')).toMatch(/^\/console\/signin\?next=/);
    return null;
  }
  return /Sign out ([^<]+)</.exec(res.html)?.[1] ?? `(no name; status ${res.status})`;
}

const count = async (table: 'incidents' | 'api_tokens' | 'console_sessions' | 'signin_failures') =>
  Number((await t.db.selectFrom(table).select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

describe('console sign-in: the session cookie', () => {
  it('when signed out, a console page redirects to the sign-in page, which returns there afterwards', async () => {
    t.clock.set(T0);
    const b = consoleClient(t, '198.51.100.1');
    const res = await b.get('/console/incidents?state=open');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/signin?next=%2Fconsole%2Fincidents%3Fstate%3Dopen');
    const form = await b.get(res.headers.get('location')!);
    expect(form.status).toBe(200);
    expect(inputValue(form.html, 'next')).toBe('/console/incidents?state=open');
    const signedIn = await b.post('/console/signin', { token: root, next: inputValue(form.html, 'next')! });
    expect(signedIn.status).toBe(303);
    expect(signedIn.location).toBe('/console/incidents?state=open');
  });

  it('when a valid token signs in, the cookie is signed, HttpOnly, SameSite=Strict, Path=/, lasts sessionHours, and names a stored session', async () => {
    t.clock.set(T0);
    const { b, res } = await signIn('198.51.100.2', root);
    expect(res.location).toBe('/console/tokens');
    const line = sessionCookieLine(res.headers)!;
    expect(line).toMatch(/^herald_session=/);
    const attributes = line.split(';').slice(1).map((a) => a.trim());
    // 12 hours (HERALD_SESSION_HOURS' default) = 43200 s; Expires is T0 + 12 h
    expect(attributes).toEqual(expect.arrayContaining(['Max-Age=43200', 'Path=/', 'HttpOnly', 'SameSite=Strict', 'Expires=Sun, 01 Mar 2026 22:00:00 GMT']));
    expect(attributes.some((a) => /^secure$/i.test(a))).toBe(false); // plain http here
    expect(t.config.sessionHours).toBe(12);

    // value: "<secret>.<HMAC signature>" (percent-encoded); only the secret's SHA-256 is stored
    const value = decodeURIComponent(b.jar.get('herald_session')!);
    const [secret, signature] = value.split('.') as [string, string];
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(signature).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const row = await t.db.selectFrom('console_sessions').selectAll().where('secret_sha256', '=', sha256(secret)).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ address: '198.51.100.2', ended_at: null });
    expect(row.created_at.toISOString()).toBe(T0);
    expect(row.expires_at.toISOString()).toBe(at(12 * HOUR));
    expect(JSON.stringify(await t.db.selectFrom('console_sessions').selectAll().execute())).not.toContain(secret);

    expect(await whoAmI(b)).toBe('root');
  });

  it('when one character of the cookie is changed, or its signature is dropped, the visitor is signed out', async () => {
    t.clock.set(T0);
    const { b } = await signIn('198.51.100.3', root);
    const good = b.jar.get('herald_session')!;
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

    b.jar.set('herald_session', flip(good, 0)); // in the secret
    expect(await whoAmI(b)).toBeNull();
    b.jar.set('herald_session', flip(good, 50)); // in the signature
    expect(await whoAmI(b)).toBeNull();
    b.jar.set('herald_session', good.split('.')[0]!); // the bare secret, unsigned
    expect(await whoAmI(b)).toBeNull();
    b.jar.set('herald_session', good);
    expect(await whoAmI(b)).toBe('root');
  });

  it('when served over https (the request URL, or X-Forwarded-Proto), the cookie is __Host-herald_session with Secure', async () => {
    t.clock.set(T0);
    const secure = (line: string) => line.split(';').slice(1).map((a) => a.trim());

    const direct = consoleClient(t, '198.51.100.4');
    await direct.get('https://status.example.com/console/signin');
    expect([...direct.jar.keys()]).toEqual(['__Host-herald_signin']);
    const r1 = await direct.post('https://status.example.com/console/signin', { token: root, next: '/console/tokens' });
    expect(r1.status).toBe(303);
    const line1 = sessionCookieLine(r1.headers)!;
    expect(line1).toMatch(/^__Host-herald_session=/);
    expect(secure(line1)).toEqual(expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=43200']));
    expect(secure(line1).some((a) => /^domain=/i.test(a))).toBe(false); // __Host- forbids Domain
    expect(await whoAmI(direct, {}, 'https://status.example.com/console/tokens')).toBe('root');

    const proxied = consoleClient(t, '198.51.100.5');
    const https = { 'x-forwarded-proto': 'https' };
    await proxied.get('/console/signin', https);
    const r2 = await proxied.post('/console/signin', { token: root, next: '/console/tokens' }, https);
    expect(r2.status).toBe(303);
    const line2 = sessionCookieLine(r2.headers)!;
    expect(line2).toMatch(/^__Host-herald_session=/);
    expect(secure(line2)).toEqual(expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=43200']));
    expect(await whoAmI(proxied, https)).toBe('root');
  });

  it('when the sign-in asks to go elsewhere than the console afterwards, it goes to the console instead', async () => {
    t.clock.set(T0);
    for (const next of ['https://evil.example/', '//evil.example/console', '/console//evil.example', 'javascript:alert(1)']) {
      const { res } = await signIn('198.51.100.6', root, next);
      expect(res.location, next).toBe('/console/incidents');
    }
  });
});

describe('console sign-in: refusals and rate limits', () => {
  it('when the token is wrong, the page is 401 with the error beside the token field, and the failure is counted', async () => {
    t.clock.set(T0);
    const b = consoleClient(t, '192.0.2.1');
    await b.get('/console/signin');
    const before = await count('signin_failures');
    const res = await b.post('/console/signin', { token: `hrd_${'0'.repeat(12)}_${'x'.repeat(43)}`, next: '/console/tokens' });
    expect(res.status).toBe(401);
    expect(res.html).toMatch(/<p class="field-error" id="f-token-error"><span class="sr-only">Error: <\/span>That is not a valid API token \(it may have been revoked\)\.<\/p><input type="password" id="f-token" name="token" value=""/);
    expect(res.html).toContain('aria-invalid="true"');
    expect(sessionCookieLine(res.headers)).toBeUndefined();
    expect(await count('signin_failures')).toBe(before + 1);
    const empty = await b.post('/console/signin', { token: '  ', next: '/console/tokens' });
    expect(empty.status).toBe(401);
    expect(empty.html).toContain('Enter your API token.');
  });

  it('when an address failed 10 times in 15 minutes, its 11th attempt gets 429 even with a valid token, until the oldest failure leaves the window', async () => {
    const attacker = consoleClient(t, '192.0.2.66');
    await attacker.get('/console/signin');
    const wrong = `hrd_${'1'.repeat(12)}_${'y'.repeat(43)}`;
    // failures at 10:00, 10:01, …, 10:09
    for (let i = 0; i < 10; i++) {
      t.clock.set(at(i * MIN));
      expect((await attacker.post('/console/signin', { token: wrong, next: '/console/tokens' })).status).toBe(401);
    }

    // 10:10:30 — the oldest failure (10:00:00) leaves the window at 10:15:00: 4 min 30 s = 270 s
    t.clock.set(at(10 * MIN + 30 * SEC));
    const blocked = await attacker.post('/console/signin', { token: root, next: '/console/tokens' });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('270');
    expect(blocked.html).toContain('Too many failed sign-ins from your address. Try again in 5 minutes.');
    expect(sessionCookieLine(blocked.headers)).toBeUndefined();
    // a refused attempt is not counted again (waiting out the window is enough)
    const failures = await t.db.selectFrom('signin_failures').select('at').where('address', '=', '192.0.2.66').execute();
    expect(failures).toHaveLength(10);

    // another address is not affected
    const other = await signIn('192.0.2.67', root);
    expect(await whoAmI(other.b)).toBe('root');

    // 10:14:59 — still 10 failures after 09:59:59: one second to go
    t.clock.set(at(15 * MIN - SEC));
    const lastSecond = await attacker.post('/console/signin', { token: root, next: '/console/tokens' });
    expect(lastSecond.status).toBe(429);
    expect(lastSecond.headers.get('retry-after')).toBe('1');
    expect(lastSecond.html).toContain('Try again in 1 minute.');

    // 10:15:00 — the 10:00 failure is out: nine remain, and a valid token signs in
    t.clock.set(at(15 * MIN));
    const again = await attacker.post('/console/signin', { token: root, next: '/console/tokens' });
    expect(again.status).toBe(303);
    expect(await whoAmI(attacker)).toBe('root');
  });

  it('when concurrent attempts recorded more than 10 failures, Retry-After waits until fewer than 10 remain, not just for the oldest', async () => {
    // 12 failures at 10:00, 10:01, …, 10:11 (as parallel requests can record past the check)
    for (let i = 0; i < 12; i++) await recordSigninFailure(t.db, new Date(at(i * MIN)), '192.0.2.88');
    const b = consoleClient(t, '192.0.2.88');
    await b.get('/console/signin');
    // 10:12: back under 10 when the 3rd oldest (10:02) leaves at 10:17: 5 minutes = 300 s
    t.clock.set(at(12 * MIN));
    const blocked = await b.post('/console/signin', { token: root, next: '/console/tokens' });
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('300');
    t.clock.set(at(15 * MIN)); // 10:00 left the window, 10:01 and 10:02 not yet
    expect((await b.post('/console/signin', { token: root, next: '/console/tokens' })).headers.get('retry-after')).toBe('120');
    t.clock.set(at(17 * MIN));
    expect((await b.post('/console/signin', { token: root, next: '/console/tokens' })).status).toBe(303);
  });

  it('when 15 wrong guesses arrive at once from one address, exactly 10 are checked and counted; the other 5 are told to wait', async () => {
    t.clock.set(at(30 * MIN));
    const burst = consoleClient(t, '192.0.2.99');
    await burst.get('/console/signin');
    const wrong = `hrd_${'2'.repeat(12)}_${'z'.repeat(43)}`;
    const answers = await Promise.all(Array.from({ length: 15 }, () => burst.post('/console/signin', { token: wrong, next: '/console/tokens' })));
    expect(answers.map((a) => a.status).sort()).toEqual([...Array(10).fill(401), ...Array(5).fill(429)]);
    const failures = await t.db.selectFrom('signin_failures').select('at').where('address', '=', '192.0.2.99').execute();
    expect(failures).toHaveLength(10);
  });

  it('when failures come from different addresses of one IPv6 /64, they count together; another /64 is not affected', async () => {
    t.clock.set(at(40 * MIN));
    const wrong = `hrd_${'3'.repeat(12)}_${'w'.repeat(43)}`;
    for (let i = 1; i <= 10; i++) {
      const b = consoleClient(t, `2001:db8:1:2::${i.toString(16)}`);
      await b.get('/console/signin');
      expect((await b.post('/console/signin', { token: wrong, next: '/console/tokens' })).status).toBe(401);
    }
    const sameNetwork = consoleClient(t, '2001:db8:1:2:ffff::1');
    await sameNetwork.get('/console/signin');
    expect((await sameNetwork.post('/console/signin', { token: root, next: '/console/tokens' })).status).toBe(429);
    const otherNetwork = consoleClient(t, '2001:db8:1:3::1');
    await otherNetwork.get('/console/signin');
    expect((await otherNetwork.post('/console/signin', { token: root, next: '/console/tokens' })).status).toBe(303);
  });

  it('when the sign-in form comes without its herald_signin cookie, or with another value, it is refused and no session starts', async () => {
    t.clock.set(T0);
    const sessions = await count('console_sessions');
    const b = consoleClient(t, '192.0.2.2');
    await b.get('/console/signin');
    const field = inputValue(b.lastHtml, '_csrf')!;
    expect(field).toBe(b.jar.get('herald_signin'));

    b.jar.delete('herald_signin');
    const noCookie = await b.post('/console/signin', { _csrf: field, token: root, next: '/console/tokens' });
    expect(noCookie.status).toBe(400);
    expect(noCookie.html).toContain('The sign-in form had expired. Please enter your token again.');

    await b.get('/console/signin'); // a fresh cookie
    const otherValue = await b.post('/console/signin', { _csrf: field, token: root, next: '/console/tokens' });
    expect(otherValue.status).toBe(400);
    expect(sessionCookieLine(otherValue.headers)).toBeUndefined();
    expect(await count('console_sessions')).toBe(sessions);
  });
});

describe('console sign-in: expiry and sign-out', () => {
  it('when the session is past its sessionHours, a GET goes to sign-in and a form is refused with nothing saved and the typed text handed back', async () => {
    t.clock.set(T0);
    const { b } = await signIn('203.0.113.20', root);
    const incidents = await count('incidents');
    const tokens = await count('api_tokens');

    t.clock.set(at(12 * HOUR - SEC)); // 21:59:59: still good
    expect(await whoAmI(b)).toBe('root');

    t.clock.set(at(12 * HOUR)); // 22:00:00: expired
    const get = await b.get('/console/tokens');
    expect(get.status).toBe(303);
    expect(get.headers.get('location')).toBe('/console/signin?next=%2Fconsole%2Ftokens');

    const post = await b.post(
      '/console/incidents',
      { title: 'Database failover', message: 'Writes fail on the primary since 21:50 UTC; we are failing over.', state: 'investigating' },
      { referer: 'http://localhost/console/incidents/new' },
    );
    expect(post.status).toBe(401);
    expect(post.html).toContain('Your session had ended, so nothing was saved');
    expect(post.html).toContain('Writes fail on the primary since 21:50 UTC; we are failing over.');
    expect(post.html).toContain('Database failover');
    expect(inputValue(post.html, 'next')).toBe('/console/incidents/new');
    expect(await count('incidents')).toBe(incidents);

    const token = await b.post('/console/tokens', { name: 'late-bot', scopes: 'admin' });
    expect(token.status).toBe(401);
    expect(await count('api_tokens')).toBe(tokens);
  });

  it('when a commander signs out, the session ends on the server: the old cookie replayed is refused, and the audit log has both', async () => {
    t.clock.set(at(HOUR));
    const { b } = await signIn('203.0.113.21', root);
    const cookie = b.jar.get('herald_session')!;
    const secret = decodeURIComponent(cookie).split('.')[0]!;
    const session = await t.db.selectFrom('console_sessions').selectAll().where('secret_sha256', '=', sha256(secret)).executeTakeFirstOrThrow();
    await b.get('/console/tokens'); // the page whose sign-out form is used

    t.clock.set(at(HOUR + 5 * MIN));
    const out = await b.post('/console/signout', {});
    expect(out.status).toBe(303);
    expect(out.location).toBe('/console/signin?done=signed-out');
    expect(sessionCookieLine(out.headers)).toMatch(/^herald_session=; Max-Age=0; /);
    expect(b.jar.has('herald_session')).toBe(false);
    const ended = await t.db.selectFrom('console_sessions').selectAll().where('id', '=', session.id).executeTakeFirstOrThrow();
    expect(ended.ended_at?.toISOString()).toBe(at(HOUR + 5 * MIN));
    expect((await b.get('/console/signin?done=signed-out')).html).toContain('Signed out.');

    b.jar.set('herald_session', cookie); // replayed
    expect(await whoAmI(b)).toBeNull();
    expect((await b.post('/console/signout', { _csrf: 'whatever' })).status).toBe(401);

    const audit = await t.db.selectFrom('audit_log').selectAll().where('target', '=', `session:${session.id}`).orderBy('id').execute();
    const tokenId = session.token_id;
    expect(audit.map((r) => [r.action, r.actor, r.at.toISOString()])).toEqual([
      ['console.signin', `token:root#${tokenId}`, at(HOUR)],
      ['console.signout', `token:root#${tokenId}`, at(HOUR + 5 * MIN)],
    ]);
    expect(audit[0]!.after).toMatchObject({ how: 'token', address: '203.0.113.21' });
  });
});

describe('console: CSRF on every form', () => {
  it('when a form comes without this session\'s _csrf, or with another session\'s, it is 403 and nothing changes', async () => {
    t.clock.set(T0);
    const { b } = await signIn('203.0.113.30', root);
    const { b: other } = await signIn('203.0.113.31', root);
    await b.get('/console/tokens');
    await other.get('/console/tokens');
    const tokens = await count('api_tokens');

    const missing = await b.post('/console/tokens', { _csrf: '', name: 'csrf-bot', scopes: 'admin' });
    expect(missing.status).toBe(403);
    expect(missing.html).toContain('Form refused');
    const wrong = await b.post('/console/tokens', { _csrf: inputValue(other.lastHtml, '_csrf')!, name: 'csrf-bot', scopes: 'admin' });
    expect(wrong.status).toBe(403);
    const signout = await b.post('/console/signout', { _csrf: 'x'.repeat(43) });
    expect(signout.status).toBe(403);
    expect(await count('api_tokens')).toBe(tokens);
    expect(await whoAmI(b)).toBe('root'); // still signed in: the forged sign-out did nothing
  });

  it('when a form comes from another site (Origin or Sec-Fetch-Site), it is 403 even with a good _csrf, and nothing changes', async () => {
    t.clock.set(T0);
    const { b } = await signIn('203.0.113.32', root);
    await b.get('/console/tokens');
    const csrf = inputValue(b.lastHtml, '_csrf')!;
    const tokens = await count('api_tokens');

    const evil = await b.post('/console/tokens', { _csrf: csrf, name: 'evil-bot', scopes: 'admin' }, { origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(evil.html).toContain('This form was sent from another site, so Herald refused it and changed nothing.');
    const crossSite = await b.post('/console/tokens', { _csrf: csrf, name: 'evil-bot', scopes: 'admin' }, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const nullOrigin = await b.post('/console/signout', { _csrf: csrf }, { origin: 'null' });
    expect(nullOrigin.status).toBe(403);
    const signinFromElsewhere = await b.post('/console/signin', { token: root }, { origin: 'https://evil.example' });
    expect(signinFromElsewhere.status).toBe(403);
    expect(await count('api_tokens')).toBe(tokens);
    expect(await whoAmI(b)).toBe('root');

    // the same form from this site (PUBLIC_URL's origin, same-origin fetch metadata) goes through
    const ours = await b.post('/console/tokens', { _csrf: csrf, name: 'our-bot', scopes: 'incidents:write' }, { origin: 'https://status.example.com', 'sec-fetch-site': 'same-origin' });
    expect(ours.status).toBe(200);
    expect(await count('api_tokens')).toBe(tokens + 1);
  });
});

describe('console: one-time sign-in links', () => {
  async function linkFor(name: string, scopes: ('admin' | 'incidents:write')[]) {
    const token = await t.token(scopes, name);
    const row = await t.db.selectFrom('api_tokens').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
    const tokenId = row.id;
    const path = new URL((await createSigninLink(t.deps, actorOf(row))).url).pathname;
    expect(path).toMatch(/^\/console\/signin\/[A-Za-z0-9_-]{43}$/);
    return { token, tokenId, path, secret: path.split('/').at(-1)! };
  }
  const linkRow = (secret: string) => t.db.selectFrom('signin_links').selectAll().where('secret_sha256', '=', sha256(secret)).executeTakeFirstOrThrow();

  it('when a link is opened it only asks "Sign in as NAME?"; the POST signs in once, and a second POST is a 404 page', async () => {
    t.clock.set(at(2 * HOUR));
    const { path, secret } = await linkFor('linda', ['incidents:write']);
    const b = consoleClient(t, '203.0.113.40');
    for (let i = 0; i < 2; i++) {
      const ask = await b.get(path);
      expect(ask.status).toBe(200);
      expect(ask.html).toContain('<h1>Sign in as linda?</h1>');
      expect(ask.headers.get('cache-control')).toBe('no-store');
    }
    expect((await linkRow(secret)).used_at).toBeNull();

    t.clock.set(at(2 * HOUR + MIN));
    const used = await b.post(path, {});
    expect(used.status).toBe(303);
    expect(used.location).toBe('/console/incidents');
    expect(sessionCookieLine(used.headers)).toMatch(/Max-Age=43200/);
    expect((await linkRow(secret)).used_at?.toISOString()).toBe(at(2 * HOUR + MIN));
    const who = await b.get('/console/tokens'); // linda is not admin: a 403 page, signed in
    expect(who.status).toBe(403);
    expect(who.html).toContain('Sign out linda');

    const again = await b.post(path, { _csrf: b.jar.get('herald_signin')! });
    expect(again.status).toBe(404);
    expect(again.html).toContain('This sign-in link cannot be used');
    const stranger = consoleClient(t, '203.0.113.41');
    expect((await stranger.get(path)).status).toBe(404);
    expect((await stranger.post(path, { _csrf: stranger.jar.get('herald_signin')! })).status).toBe(404);
    expect(stranger.jar.has('herald_session')).toBe(false);

    const audit = await t.db.selectFrom('audit_log').selectAll().where('action', '=', 'console.signin').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(audit.after).toMatchObject({ how: 'link', address: '203.0.113.40' });
  });

  it('when a link is posted without the sign-in cookie, it is sent back to the question and stays unused', async () => {
    t.clock.set(at(2 * HOUR));
    const { path, secret } = await linkFor('lena', ['incidents:write']);
    const b = consoleClient(t, '203.0.113.42');
    const res = await b.post(path, { _csrf: 'x'.repeat(43) });
    expect(res.status).toBe(303);
    expect(res.location).toBe(path);
    expect((await linkRow(secret)).used_at).toBeNull();
  });

  it('when a link is 16 minutes old it is refused (it lasts 15)', async () => {
    t.clock.set(at(3 * HOUR));
    const { path, secret } = await linkFor('late', ['incidents:write']);
    const b = consoleClient(t, '203.0.113.43');
    t.clock.set(at(3 * HOUR + 14 * MIN + 59 * SEC));
    expect((await b.get(path)).status).toBe(200);
    t.clock.set(at(3 * HOUR + 16 * MIN));
    expect((await b.get(path)).status).toBe(404);
    const res = await b.post(path, { _csrf: b.jar.get('herald_signin')! });
    expect(res.status).toBe(404);
    expect(res.html).toContain('has expired (links last 15 minutes)');
    expect(b.jar.has('herald_session')).toBe(false);
    expect((await linkRow(secret)).used_at).toBeNull();
  });

  it('when the link\'s token was revoked, the link is refused', async () => {
    t.clock.set(at(4 * HOUR));
    const { path, tokenId } = await linkFor('gone', ['admin']);
    expect((await t.call('DELETE', `/api/v1/tokens/${tokenId}`, { token: root })).status).toBe(200);
    const b = consoleClient(t, '203.0.113.44');
    expect((await b.get(path)).status).toBe(404);
    const res = await b.post(path, { _csrf: b.jar.get('herald_signin')! });
    expect(res.status).toBe(404);
    expect(b.jar.has('herald_session')).toBe(false);
  });

  it('when a malformed link is opened, it is the same 404 page', async () => {
    const b = consoleClient(t, '203.0.113.45');
    const res = await b.get('/console/signin/not-a-secret');
    expect(res.status).toBe(404);
    expect(res.html).toContain('This sign-in link cannot be used');
  });
});

describe('console: revoked tokens', () => {
  it('when a token is revoked, every console session it started ends at once', async () => {
    t.clock.set(at(5 * HOUR));
    const temp = await t.token(['admin'], 'temp-admin');
    const { b: one } = await signIn('203.0.113.50', temp);
    const { b: two } = await signIn('203.0.113.51', temp);
    expect(await whoAmI(one)).toBe('temp-admin');
    expect(await whoAmI(two)).toBe('temp-admin');
    const id = (await t.db.selectFrom('api_tokens').select('id').where('name', '=', 'temp-admin').executeTakeFirstOrThrow()).id;

    expect((await t.call('DELETE', `/api/v1/tokens/${id}`, { token: root })).status).toBe(200);
    expect((await findToken(t.db, id))?.revoked_at?.toISOString()).toBe(at(5 * HOUR));
    expect(await whoAmI(one)).toBeNull();
    expect(await whoAmI(two)).toBeNull();
    // and it cannot sign in again
    const b = consoleClient(t, '203.0.113.52');
    await b.get('/console/signin');
    expect((await b.post('/console/signin', { token: temp })).status).toBe(401);
  });
});
