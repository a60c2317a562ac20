import type { Kysely } from 'kysely';
import type { Database, TokenRow } from '../db/schema.ts';
import * as q from '../db/queries/tokens.ts';
import { AppError } from '../errors.ts';
import { actorLabel, SCOPES, type Actor, type Deps, type Scope } from './deps.ts';
import { writeSchemas } from './schemas.ts';
import { absoluteUrl, makeSigninLink } from './sessions.ts';
import { inTransaction, parseInput, type Command, type Work } from './unit-of-work.ts';

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
 * timing gives a usable token away. The answer holds the secret, shown once, and a one-time
 * console sign-in link for whoever will hold it; it is never stored (no Idempotency-Key).
 */
export async function createToken(deps: Deps, command: Command, body: unknown) {
  const now = deps.clock.now();
  const input = parseInput(writeSchemas(deps.config, now).createToken, body, 'token.invalid_input');
  const { value } = await inTransaction(deps, { actor: command.actor }, now, async (w) => {
    const { token, row } = await mintToken(w, input);
    const link = await makeSigninLink(w, row.id);
    return { ...publicToken(row), token, signin_url: absoluteUrl(deps.config.publicUrl, link.path), signin_expires_at: link.expiresAt.toISOString() };
  });
  return value;
}

/** Makes a token in the caller's work: the secret (shown once) and the row. */
export async function mintToken(w: Work, input: { readonly name: string; readonly scopes: readonly Scope[] }) {
  const keyId = hex(crypto.getRandomValues(new Uint8Array(6)));
  const secret = randomSecret();
  const row = await q.insertToken(w.db, {
    key_id: keyId,
    name: input.name,
    secret_sha256: await sha256Hex(secret),
    scopes: [...input.scopes],
    created_at: w.now,
    created_by: actorLabel(w.actor),
  });
  await w.audit('token.create', `token:${row.id}`, { after: publicToken(row) });
  w.emit({ name: 'token.created', token: row.id });
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
  new AppError('auth.token_required', 'A valid API token is required: send "Authorization: Bearer <token>" (create one with `herald token:create`).');

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
    throw new AppError('auth.scope_missing', `This token (${actor.name}) lacks the "${scope}" scope.`);
  }
}

export async function revokeToken(deps: Deps, command: Command, id: number) {
  const { value } = await inTransaction(deps, command, deps.clock.now(), async (w) => {
    const row = await q.findToken(w.db, id);
    if (!row) throw new AppError('token.not_found', `Token ${id} was not found.`);
    if (row.revoked_at !== null) throw new AppError('token.already_revoked', `Token ${id} was already revoked at ${row.revoked_at.toISOString()}.`);
    const after = await q.revokeToken(w.db, id, w.now);
    await w.audit('token.revoke', `token:${id}`, { before: publicToken(row), after: publicToken(after) });
    w.emit({ name: 'token.revoked', token: id });
    return publicToken(after);
  });
  return value;
}
