import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, getSignedCookie, setCookie, setSignedCookie } from 'hono/cookie';
import type { Config } from '../../config.ts';
import type { Actor, Deps } from '../../services/deps.ts';
import { cookieKey, findSession, type ConsoleSession } from '../../services/sessions.ts';
import { constantTimeEqual, randomSecret } from '../../services/tokens.ts';

export type ConsoleEnv = {
  /** config: with the components as the database has them now (set per request, once signed in). */
  Variables: { session: ConsoleSession; actor: Actor; csrf: string; sessionSecret: string; config: Config };
};

/**
 * Where the request came from, for rate-limiting sign-ins. On Node it is the socket's peer (or,
 * with HERALD_TRUST_PROXY, the last X-Forwarded-For entry: what our own proxy saw). Elsewhere
 * (Workers) it is CF-Connecting-IP, which Cloudflare sets and a client cannot.
 */
export function clientAddress(c: Context, config: Config): string {
  if (config.trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',').map((s) => s.trim()).filter(Boolean).at(-1);
    if (forwarded) return forwarded;
  }
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  if (env?.incoming) return env.incoming.socket?.remoteAddress ?? 'unknown';
  return c.req.header('cf-connecting-ip') ?? 'unknown';
}

/** Served over https (directly, or behind a proxy that says so): cookies get Secure and __Host-. */
export function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';
}

const cookieName = (c: Context, base: string) => (isHttps(c) ? `__Host-${base}` : base);
const SESSION = 'herald_session';
const SIGNIN_CSRF = 'herald_signin';

/** The signing key, read once per app (and again after a failure). */
export function keyring(deps: Deps) {
  let key: Promise<string> | undefined;
  const hmacKeys = new Map<string, Promise<CryptoKey>>();
  async function get(): Promise<string> {
    key ??= cookieKey(deps.db, deps.clock.now()).catch((error: unknown) => {
      key = undefined;
      throw error;
    });
    return key;
  }
  /** HMAC-SHA256 of `text` under the key, base64url: a CSRF token bound to one session. */
  async function mac(text: string): Promise<string> {
    const secret = await get();
    let k = hmacKeys.get(secret);
    if (!k) {
      k = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      hmacKeys.set(secret, k);
    }
    const sig = new Uint8Array(await crypto.subtle.sign('HMAC', await k, new TextEncoder().encode(text)));
    return btoa(String.fromCharCode(...sig)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  return { get, mac };
}
export type Keyring = ReturnType<typeof keyring>;

const cookieOptions = (c: Context, maxAge: number) => ({
  path: '/',
  httpOnly: true,
  secure: isHttps(c),
  sameSite: 'Strict' as const,
  maxAge,
});

export async function setSessionCookie(c: Context, keys: Keyring, secret: string, expiresAt: Date, now: Date): Promise<void> {
  const maxAge = Math.max(1, Math.floor((expiresAt.getTime() - now.getTime()) / 1000));
  await setSignedCookie(c, cookieName(c, SESSION), secret, await keys.get(), { ...cookieOptions(c, maxAge), expires: expiresAt });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, cookieName(c, SESSION), { path: '/', secure: isHttps(c), httpOnly: true, sameSite: 'Strict' });
}

/** The session the request's cookie names, if its signature holds and the session is still good. */
export async function sessionOf(c: Context, deps: Deps, keys: Keyring): Promise<{ session: ConsoleSession; secret: string } | undefined> {
  const secret = await getSignedCookie(c, await keys.get(), cookieName(c, SESSION));
  if (!secret) return undefined;
  const session = await findSession(deps.db, deps.clock.now(), secret);
  return session ? { session, secret } : undefined;
}

/** The sign-in form's own CSRF value (double submit: a cookie and a field that must match). */
export function signinCsrf(c: Context): string {
  const existing = getCookie(c, cookieName(c, SIGNIN_CSRF));
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const value = randomSecret();
  setCookie(c, cookieName(c, SIGNIN_CSRF), value, cookieOptions(c, 3600));
  return value;
}

export function signinCsrfMatches(c: Context, submitted: string): boolean {
  const cookie = getCookie(c, cookieName(c, SIGNIN_CSRF));
  return cookie !== undefined && constantTimeEqual(cookie, submitted);
}

/**
 * Refuses a write that another site started: the browser says so in Sec-Fetch-Site, or the
 * Origin is not this site's. (SameSite=Strict already keeps the session cookie off such a
 * request; this answers it with a clear 403 instead of a sign-in page.)
 */
export function fromThisSite(c: Context, config: Config): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = c.req.header('origin');
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  const own = new Set([new URL(c.req.url).origin, new URL(config.publicUrl).origin]);
  if (own.has(origin)) return true;
  const host = c.req.header('x-forwarded-host') ?? c.req.header('host');
  return URL.canParse(origin) && host !== undefined && new URL(origin).host === host;
}

/** Makes the session available to handlers, or sends the visitor to sign in (GET) / refuses (POST). */
export function requireSession(deps: Deps, keys: Keyring, signedOut: (c: Context) => Response | Promise<Response>): MiddlewareHandler<ConsoleEnv> {
  return async function requireSessionMiddleware(c, next) {
    const found = await sessionOf(c, deps, keys);
    if (!found) return signedOut(c);
    c.set('session', found.session);
    c.set('actor', found.session.actor);
    c.set('sessionSecret', found.secret);
    c.set('csrf', await keys.mac(`csrf:${found.secret}`));
    await next();
  };
}
