import type { Context, MiddlewareHandler } from 'hono';
import { AppError, type ErrorCode } from '../errors.ts';
import { authenticate, requireScope } from '../services/tokens.ts';
import type { Actor, Deps, Scope } from '../services/deps.ts';
import type { Command, Idempotency, Written } from '../services/unit-of-work.ts';
import { sha256Hex } from '../services/tokens.ts';

export type Env = { Variables: { actor: Actor } };

/** Bodies above this are refused with 413 before they are read. Postmortems fit with room. */
export const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * Reads the body as JSON whatever the Content-Type says (curl -d sends form encoding). What it
 * must hold is the use case's to judge (every problem listed in one 400).
 */
export async function readJson(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new AppError('request.malformed_json', 'The request body is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AppError('request.not_an_object', 'The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

/** A path id: a positive 32-bit integer, or the thing does not exist (404, never a 500). */
export function idParam(c: Context, name: string, what: string): number {
  const raw = c.req.param(name) ?? '';
  const n = /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n > 2_147_483_647) throw new AppError(notFoundCode[what] ?? 'request.no_route', `${what} ${raw} was not found.`);
  return n;
}

const notFoundCode: Readonly<Record<string, ErrorCode>> = { Webhook: 'webhook.not_found', Incident: 'incident.not_found', Update: 'update.not_found', Maintenance: 'maintenance.not_found', Token: 'token.not_found', Rule: 'rule.not_found', Subscriber: 'subscriber.not_found', Issue: 'issue.not_found' };

/** Requires a bearer token holding `scope` (admin holds them all). */
export function requireToken(deps: Deps, scope: Scope): MiddlewareHandler<Env> {
  return async function requireTokenMiddleware(c, next) {
    const header = c.req.header('authorization') ?? '';
    const bearer = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    const actor = await authenticate(deps.db, deps.clock.now(), bearer);
    requireScope(actor, scope);
    c.set('actor', actor);
    await next();
  };
}

/** Who asks (the token's actor) and the request's Idempotency-Key: what a use case is called with. */
export async function commandOf(c: Context<Env>): Promise<Command> {
  return { actor: c.get('actor'), idempotency: await idempotencyOf(c) };
}

/** A use case's answer as JSON; a replayed answer says so. */
export function respond(c: Context, status: 200 | 201, result: Written<unknown>) {
  if (result.replayed) c.header('Idempotent-Replayed', 'true');
  return c.json(result.value as object, status);
}

/** The request's Idempotency-Key, bound to the token and to what the request asks. */
export async function idempotencyOf(c: Context<Env>): Promise<Idempotency | undefined> {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new AppError('request.idempotency_key_invalid', 'The Idempotency-Key header is not valid.', [
      { path: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' },
    ]);
  }
  const fingerprint = await sha256Hex(`${c.req.method} ${new URL(c.req.url).pathname}\n${await c.req.text()}`);
  return { tokenId: c.get('actor').tokenId, key, fingerprint };
}
