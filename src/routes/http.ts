import type { Context, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { AppError } from '../errors.ts';
import { problemsOf } from '../services/schemas.ts';
import { authenticate, requireScope } from '../services/tokens.ts';
import type { Actor, Deps, Scope } from '../services/deps.ts';
import type { Idempotency } from '../services/transaction.ts';
import { sha256Hex } from '../services/tokens.ts';

export type Env = { Variables: { actor: Actor } };

/** Bodies above this are refused with 413 before they are read. Postmortems fit with room. */
export const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * Reads the body as JSON whatever the Content-Type says (curl -d sends form encoding) and
 * validates it; every problem is listed in one 400.
 */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new AppError('bad_request', 'The request body is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AppError('bad_request', 'The request body must be a JSON object.');
  }
  const result = schema.safeParse(value, { reportInput: true });
  if (!result.success) throw new AppError('invalid_params', 'The request body is not valid.', problemsOf(result.error));
  return result.data;
}

/** A path id: a positive 32-bit integer, or the thing does not exist (404, never a 500). */
export function idParam(c: Context, name: string, what: string): number {
  const raw = c.req.param(name) ?? '';
  const n = /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n > 2_147_483_647) throw new AppError('not_found', `${what} ${raw} was not found.`);
  return n;
}

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

/** The request's Idempotency-Key, bound to the token and to what the request asks. */
export async function idempotencyOf(c: Context<Env>): Promise<Idempotency | undefined> {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new AppError('invalid_params', 'The Idempotency-Key header is not valid.', [
      { path: 'Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' },
    ]);
  }
  const fingerprint = await sha256Hex(`${c.req.method} ${new URL(c.req.url).pathname}\n${await c.req.text()}`);
  return { tokenId: c.get('actor').tokenId, key, fingerprint };
}
