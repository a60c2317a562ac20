import type { Kysely } from 'kysely';
import type { Database, TokenRow } from '../db/schema.ts';
import { recordAudit } from '../db/queries/audit.ts';
import * as q from '../db/queries/tokens.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import { SCOPES, type Actor, type Scope } from './deps.ts';

type Db = Kysely<Database>;

const PREFIX = 'hrd';

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** 256 random bits, base64url: a secret for a token, a session or a link. */
export function randomSecret(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function sha256Hex(text: string): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))));
}

/** Compares two strings in time that depends only on their length, not on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/**
 * A token reads `hrd_<key id>_<secret>`. The key id finds the row; only the SHA-256 of the
 * secret is stored, and it is compared in constant time, so neither a database dump nor response
 * timing gives a usable token away.
 */
export async function createToken(db: Db, now: Date, input: { name: string; scopes: readonly Scope[] }, createdBy: string) {
  const keyId = hex(crypto.getRandomValues(new Uint8Array(6)));
  const secret = randomSecret();
  const row = await q.insertToken(db, {
    key_id: keyId,
    name: input.name,
    secret_sha256: await sha256Hex(secret),
    scopes: [...input.scopes],
    created_at: now,
    created_by: createdBy,
  });
  await recordAudit(db, { at: now, actor: createdBy, action: 'token.create', target: `token:${row.id}`, after: publicToken(row) });
  return { token: `${PREFIX}_${keyId}_${secret}`, row };
}

export function publicToken(row: TokenRow) {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    created_at: row.created_at.toISOString(),
    created_by: row.created_by,
    last_used_at: row.last_used_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}

const unauthorized = () =>
  new AppError('unauthorized', 'A valid API token is required: send "Authorization: Bearer <token>" (create one with `herald token:create`).');

/** Resolves a bearer token to its actor, or throws 401. Records use at most once a minute. */
export async function authenticate(db: Db, now: Date, bearer: string | undefined): Promise<Actor> {
  const match = /^hrd_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(bearer ?? '');
  if (!match) throw unauthorized();
  const row = await q.findTokenByKeyId(db, match[1]!);
  const presented = await sha256Hex(match[2]!);
  // Compare even when no row matched, so an unknown key id costs the same time as a wrong secret.
  const valid = constantTimeEqual(presented, row?.secret_sha256 ?? '0'.repeat(64));
  if (!row || !valid || row.revoked_at !== null) throw unauthorized();
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > 60_000) await q.touchToken(db, row.id, now);
  return actorOf(row);
}

/** Who a token acts as: its name, and the scopes it holds that Herald knows. */
export function actorOf(row: TokenRow): Actor {
  return { tokenId: row.id, name: row.name, scopes: row.scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s)) };
}

/** `admin` holds every scope. */
export function requireScope(actor: Actor, scope: Scope): void {
  if (!actor.scopes.includes(scope) && !actor.scopes.includes('admin')) {
    throw new AppError('forbidden', `This token (${actor.name}) lacks the "${scope}" scope.`);
  }
}

export async function revokeToken(db: Db, now: Date, id: number, actor: string) {
  const row = await q.findToken(db, id);
  if (!row) throw notFound(`Token ${id}`);
  if (row.revoked_at !== null) throw conflict(`Token ${id} was already revoked at ${row.revoked_at.toISOString()}.`);
  const after = await q.revokeToken(db, id, now);
  await recordAudit(db, { at: now, actor, action: 'token.revoke', target: `token:${id}`, before: publicToken(row), after: publicToken(after) });
  return after;
}
