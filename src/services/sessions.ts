import type { Kysely } from 'kysely';
import { lockSigninKey } from '../db/queries/system.ts';
import type { Database } from '../db/schema.ts';
import * as q from '../db/queries/sessions.ts';
import { findToken } from '../db/queries/tokens.ts';
import { parseAddress } from '../gate/cidr.ts';
import { ANONYMOUS, type Actor, type Deps } from './deps.ts';
import { actorOf, authenticate, randomSecret, sha256Hex } from './tokens.ts';
import { inTransaction, type Work } from './unit-of-work.ts';

type Db = Kysely<Database>;

/** Failed sign-ins allowed from one address within RATE_WINDOW_MS before it must wait. */
export const MAX_FAILURES = 10;
export const RATE_WINDOW_MS = 15 * 60_000;
/** A one-time sign-in link lasts this long. */
export const LINK_LIFETIME_MS = 15 * 60_000;

export interface ConsoleSession {
  readonly id: number;
  readonly expiresAt: Date;
  readonly actor: Actor;
}

/**
 * The key that signs console cookies and derives CSRF tokens. Made once, at random, and kept in
 * the database so every instance (and every restart) signs alike.
 */
export function cookieKey(db: Db, now: Date): Promise<string> {
  return q.findOrCreateKey(db, 'console-cookie', randomSecret(), now);
}

/** Starts a session for a token, in the caller's work; only the SHA-256 of the returned secret is stored. */
export async function startSession(w: Work, actor: Actor, address: string, how: 'token' | 'link' | 'setup') {
  const secret = randomSecret();
  const row = await q.insertSession(w.db, {
    secret_sha256: await sha256Hex(secret),
    token_id: actor.tokenId,
    created_at: w.now,
    expires_at: new Date(w.now.getTime() + w.config.sessionHours * 3_600_000),
    address,
  });
  await w.audit('console.signin', `session:${row.id}`, { after: { how, address, expires_at: row.expires_at }, actor });
  w.emit({ name: 'console.signed_in', session: row.id, token: actor.tokenId });
  return { secret, session: { id: row.id, expiresAt: row.expires_at, actor } satisfies ConsoleSession };
}

/**
 * The session a cookie's secret names, if it is still good: not ended, not expired, and its
 * token not revoked (revoking a token ends its sessions too).
 */
export async function findSession(db: Db, now: Date, secret: string): Promise<ConsoleSession | undefined> {
  const row = await q.findSession(db, await sha256Hex(secret));
  if (!row || row.ended_at !== null || row.expires_at.getTime() <= now.getTime()) return undefined;
  const token = await findToken(db, row.token_id);
  if (!token || token.revoked_at !== null) return undefined;
  return { id: row.id, expiresAt: row.expires_at, actor: actorOf(token) };
}

export async function signOut(deps: Deps, session: ConsoleSession): Promise<void> {
  await inTransaction(deps, { actor: session.actor }, deps.clock.now(), async (w) => {
    await q.endSession(w.db, session.id, w.now);
    await w.audit('console.signout', `session:${session.id}`);
    w.emit({ name: 'console.signed_out', session: session.id });
  });
}

/** Checks a pasted API token; undefined when it is not a valid one. */
export async function tokenActor(db: Db, now: Date, token: string): Promise<Actor | undefined> {
  return authenticate(db, now, token.trim()).catch(() => undefined);
}

/** A one-time link that signs its holder in as `tokenId`, in the caller's work: the path to send them to. */
export async function makeSigninLink(w: Work, tokenId: number): Promise<{ path: string; expiresAt: Date }> {
  const secret = randomSecret();
  const expiresAt = new Date(w.now.getTime() + LINK_LIFETIME_MS);
  await q.insertLink(w.db, { secret_sha256: await sha256Hex(secret), token_id: tokenId, created_at: w.now, expires_at: expiresAt });
  await w.audit('console.link', `token:${tokenId}`);
  w.emit({ name: 'console.link_created', token: tokenId });
  return { path: `/console/signin/${secret}`, expiresAt };
}

/** A one-time console sign-in link for the asking token itself (`herald console:link`). */
export async function createSigninLink(deps: Deps, actor: Actor) {
  const { value } = await inTransaction(deps, { actor }, deps.clock.now(), async (w) => {
    const link = await makeSigninLink(w, actor.tokenId);
    return { url: absoluteUrl(deps.config.publicUrl, link.path), expires_at: link.expiresAt.toISOString() };
  });
  return value;
}

/** Who a link would sign in, without using it (the page that asks "sign in as …?"). */
export async function peekSigninLink(db: Db, now: Date, secret: string): Promise<string | undefined> {
  const link = await q.findLink(db, await sha256Hex(secret));
  if (!link || link.used_at !== null || link.expires_at.getTime() <= now.getTime()) return undefined;
  const token = await findToken(db, link.token_id);
  return token && token.revoked_at === null ? token.name : undefined;
}

/** Uses a link (once) and starts its session; undefined if it is used, expired or its token revoked. */
export async function signInWithLink(deps: Deps, secret: string, address: string) {
  const { value } = await inTransaction(deps, { actor: ANONYMOUS }, deps.clock.now(), async (w) => {
    const link = await q.useLink(w.db, await sha256Hex(secret), w.now);
    if (!link) return undefined;
    const token = await findToken(w.db, link.token_id);
    if (!token || token.revoked_at !== null) return undefined;
    return startSession(w, actorOf(token), address, 'link');
  });
  return value;
}

/**
 * Seconds until `address` may try again, or 0 when it may now. It may once fewer than
 * MAX_FAILURES of its failures are in the window, i.e. when the MAX_FAILURES-th newest leaves it.
 * (Usually that is the oldest, but concurrent attempts can record more than MAX_FAILURES.)
 */
export async function signinWait(db: Db, now: Date, address: string): Promise<number> {
  const recent = await q.failuresSince(db, address, new Date(now.getTime() - RATE_WINDOW_MS), MAX_FAILURES);
  if (recent.length < MAX_FAILURES) return 0;
  return Math.max(1, Math.ceil((recent[MAX_FAILURES - 1]!.at.getTime() + RATE_WINDOW_MS - now.getTime()) / 1000));
}

/** A failed sign-in from `address` (a rateKey), counted for signinWait. */
export async function recordSigninFailure(db: Db, now: Date, address: string): Promise<void> {
  await q.pruneFailures(db, new Date(now.getTime() - RATE_WINDOW_MS));
  await q.insertFailure(db, address, now);
}

/**
 * Whose failures count together: one IPv4 address, or one IPv6 /64 (a single host can hand
 * itself any address in its /64, so counting exact IPv6 addresses would count nothing).
 */
export function rateKey(address: string): string {
  const parsed = parseAddress(address);
  if (!parsed) return address;
  if (parsed.family === 4) return [24, 16, 8, 0].map((shift) => Number((parsed.value >> BigInt(shift)) & 0xffn)).join('.');
  const prefix = (parsed.value >> 64n).toString(16).padStart(16, '0');
  return `${prefix.match(/.{4}/g)!.join(':')}::/64`;
}

export type SigninOutcome =
  | { readonly kind: 'signed-in'; readonly secret: string; readonly session: ConsoleSession }
  | { readonly kind: 'refused' }
  | { readonly kind: 'wait'; readonly seconds: number };

/**
 * One sign-in attempt with a pasted token. Attempts from one address (see rateKey) take turns
 * under an advisory lock, so a burst of parallel guesses is counted one by one: past
 * MAX_FAILURES in RATE_WINDOW_MS, even a right token waits.
 */
export async function signInWithToken(deps: Deps, address: string, token: string): Promise<SigninOutcome> {
  const { value } = await inTransaction(deps, { actor: ANONYMOUS }, deps.clock.now(), async (w): Promise<SigninOutcome> => {
    const key = rateKey(address);
    await lockSigninKey(w.db, key);
    const seconds = await signinWait(w.db, w.now, key);
    if (seconds > 0) return { kind: 'wait', seconds };
    const actor = token.trim() === '' ? undefined : await tokenActor(w.db, w.now, token);
    if (!actor) {
      await recordSigninFailure(w.db, w.now, key);
      return { kind: 'refused' };
    }
    return { kind: 'signed-in', ...(await startSession(w, actor, address, 'token')) };
  });
  return value;
}

/** The address a link path is opened at: PUBLIC_URL (without its trailing slash) plus the path. */
export function absoluteUrl(publicUrl: string, path: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${path}`;
}
