import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import * as m from '../db/queries/modes.ts';
import { MODE_WORDS } from '../../templates/format.ts';
import type { Deps } from '../services/deps.ts';
import { clearOverride, loadPlatform, setOverride, type RoleMode } from '../services/modes.ts';
import type { PublicData } from '../services/public-data.ts';
import { LIMITS } from '../services/schemas.ts';
import { runWrite } from '../services/transaction.ts';
import { sendCached, type Compressor, type PublicSnapshot } from './cached.ts';
import { idempotencyOf, readBody, requireToken, type Env } from './http.ts';

/** The platform document gates read: every role, or one with `?role=`. */
export function platformDocument(data: PublicData, role?: string) {
  const roles = role ? data.platform.filter((r) => r.role === role) : data.platform;
  return { roles, updated_at: data.status.updated_at };
}

const reason = z.string().trim().min(1, 'reason must not be empty').max(LIMITS.reason, `reason must be at most ${LIMITS.reason} characters`).refine((s) => !s.includes('\u0000'), 'reason must not contain NUL characters');

const instant = 'must be an ISO 8601 time with a timezone, e.g. 2026-11-21T10:00:00Z';

export const overrideBody = z.strictObject({
  mode: z.enum(['read_only', 'maintenance'], { message: 'must be read_only or maintenance (to return to full, clear the override)' }),
  reason,
  /** When the operator expects to be done: gates send it as Retry-After (it does not end the override). */
  until: z.string({ message: instant }).pipe(z.iso.datetime({ offset: true, message: instant })).transform((s) => new Date(s)).optional(),
  /** Browsers on the maintenance page reload it every `refresh` seconds (the Refresh header). */
  refresh: z.number({ message: 'must be a number of seconds' }).int('must be a whole number of seconds').min(1, 'must be at least 1').max(86400, 'must be at most 86400 (a day)').optional(),
});
export const clearBody = z.strictObject({ reason: reason.optional() });

function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}

/**
 * GET /api/v1/platform (+ /events): the effective mode of every role, for gates and workers.
 * PUT/DELETE /api/v1/platform/roles/:role/override: the operator's manual switch.
 */
export function platformRoutes(deps: Deps, snapshot: PublicSnapshot, compress?: Compressor) {
  const { db, config, clock } = deps;
  const app = new Hono<Env>();
  const write = requireToken(deps, 'maintenance:write');

  function checkRole(role: string | undefined): string | undefined {
    if (role !== undefined && !config.roles.includes(role)) {
      throw new AppError('not_found', `Role "${role}" is not configured (roles: ${config.roles.join(', ')}).`);
    }
    return role;
  }

  app.get('/platform', async (c) => {
    const role = checkRole(c.req.query('role'));
    const res = await sendCached(c, snapshot, `api:v1:platform:${role ?? ''}`, ({ data }) => ({
      type: 'application/json; charset=utf-8',
      body: JSON.stringify(platformDocument(data, role)),
    }), compress);
    // Gates poll this with If-None-Match: they must revalidate every time, never reuse blindly.
    res.headers.set('Cache-Control', 'no-cache');
    const { data } = await snapshot.current();
    const ends = platformDocument(data, role).roles.filter((r) => r.mode !== 'full').map((r) => r.retry_after);
    if (ends.length > 0 && ends.every((e) => e !== null)) res.headers.set('Retry-After', httpDate(ends.sort().at(-1)!));
    return res;
  });

  app.get('/platform/events', (c) => {
    const role = checkRole(c.req.query('role'));
    c.header('Cache-Control', 'no-store');
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (stream) => {
      let last = '';
      let sequence = 0;
      const send = async () => {
        const { data, state } = await snapshot.current().then((s) => ({ data: s.data, state: s }));
        const body = JSON.stringify({ ...platformDocument(data, role), stale: state.staleSince !== null });
        if (body === last) return;
        last = body;
        await stream.writeSSE({ event: 'platform', id: String(++sequence), data: body, retry: 1000 });
      };
      let pending = Promise.resolve();
      const unsubscribe = deps.changes.subscribe(() => {
        pending = pending.then(send).catch(() => {});
      });
      stream.onAbort(() => unsubscribe());
      await send();
      while (!stream.aborted && !stream.closed) {
        await stream.sleep(15_000);
        if (stream.aborted || stream.closed) break;
        await stream.write(': heartbeat\n\n');
        pending = pending.then(send).catch(() => {}); // also picks up time-based changes
      }
      unsubscribe();
    });
  });

  app.get('/platform/roles/:role/history', async (c) => {
    const role = checkRole(c.req.param('role'))!;
    const rows = await m.modeHistory(db, role);
    return c.json(rows.map((r) => ({ role: r.role, from: r.from_mode, to: r.to_mode, at: r.at.toISOString(), sources: r.sources, cause: r.cause })));
  });

  app.put('/platform/roles/:role/override', write, async (c) => {
    const role = checkRole(c.req.param('role'))!;
    const now = clock.now();
    const input = await readBody(c, overrideBody);
    const actor = c.get('actor');
    const result = await runWrite(deps, now, await idempotencyOf(c), async (trx) => {
      const override = await setOverride(trx, config, actor, now, role, input.mode, input.reason, { until: input.until ?? null, refreshSeconds: input.refresh ?? null });
      const after = (await loadPlatform(trx, config, now)).find((r) => r.role === role)!;
      return { status: 200, body: { role: after, override: overrideView(override), message: `${role} is ${MODE_WORDS[after.mode]}.` } };
    }, `override set on ${role} by ${actor.name}: ${input.reason}`);
    if (result.replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(result.body as object, 200);
  });

  app.delete('/platform/roles/:role/override', write, async (c) => {
    const role = checkRole(c.req.param('role'))!;
    const now = clock.now();
    const input = await readBody(c, clearBody);
    const actor = c.get('actor');
    const result = await runWrite(deps, now, await idempotencyOf(c), async (trx) => {
      const override = await clearOverride(trx, actor, now, role, input.reason ?? null);
      const after = (await loadPlatform(trx, config, now)).find((r) => r.role === role)!;
      return { status: 200, body: { role: after, override: overrideView(override), still_held: after.mode !== 'full', message: clearedMessage(role, after) } };
    }, `override cleared on ${role} by ${actor.name}`);
    if (result.replayed) c.header('Idempotent-Replayed', 'true');
    return c.json(result.body as object, 200);
  });

  return app;
}

function overrideView(o: { id: number; role: string; mode: string; reason: string; set_at: Date; set_by: string; until: Date | null; refresh_seconds: number | null; cleared_at: Date | null; cleared_by: string | null }) {
  return { id: o.id, role: o.role, mode: o.mode, reason: o.reason, set_at: o.set_at.toISOString(), set_by: o.set_by, until: o.until?.toISOString() ?? null, refresh: o.refresh_seconds, cleared_at: o.cleared_at?.toISOString() ?? null, cleared_by: o.cleared_by };
}

/** Clearing the switch does not clear what an open incident or running maintenance declares: say so. */
function clearedMessage(role: string, after: RoleMode): string {
  if (after.mode === 'full') return `The override is cleared; ${role} is fully available.`;
  const by = after.sources.map((s) => `${s.kind} "${s.title}" (${s.source})`).join(', ');
  return `The override is cleared, but ${role} stays ${MODE_WORDS[after.mode]}: held by ${by}.`;
}
