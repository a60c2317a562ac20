import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import * as m from '../db/queries/modes.ts';
import { MODE_WORDS } from '../../templates/format.ts';
import type { Deps } from '../services/deps.ts';
import type { RoleMode } from '../services/modes.ts';
import * as overrides from '../services/overrides.ts';
import type { PublicData } from '../services/public-data.ts';
import { sendCached, type Compressor, type PublicSnapshot } from './cached.ts';
import { commandOf, readJson, requireToken, respond, type Env } from './http.ts';

/** The platform document gates read: every role, or one with `?role=`. */
export function platformDocument(data: PublicData, role?: string) {
  const roles = role ? data.platform.filter((r) => r.role === role) : data.platform;
  return { roles, updated_at: data.status.updated_at };
}

function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}

/**
 * GET /api/v1/platform (+ /events): the effective mode of every role, for gates and workers.
 * PUT/DELETE /api/v1/platform/roles/:role/override: the operator's manual switch.
 */
export function platformRoutes(deps: Deps, snapshot: PublicSnapshot, compress?: Compressor) {
  const { db } = deps;
  const app = new Hono<Env>();
  const write = requireToken(deps, 'maintenance:write');

  const checkRole = (role: string | undefined) => (role === undefined ? undefined : overrides.checkRole(deps, role));

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
    const done = await overrides.setOverride(deps, await commandOf(c), c.req.param('role'), await readJson(c));
    return respond(c, 200, { ...done, value: { ...done.value, message: `${done.value.role.role} is ${MODE_WORDS[done.value.role.mode]}.` } });
  });

  app.delete('/platform/roles/:role/override', write, async (c) => {
    const done = await overrides.clearOverride(deps, await commandOf(c), c.req.param('role'), await readJson(c));
    const { role } = done.value;
    return respond(c, 200, { ...done, value: { ...done.value, still_held: role.mode !== 'full', message: clearedMessage(role) } });
  });

  return app;
}

/** Clearing the switch does not clear what an open incident or running maintenance declares: say so. */
function clearedMessage(after: RoleMode): string {
  const { role } = after;
  if (after.mode === 'full') return `The override is cleared; ${role} is fully available.`;
  const by = after.sources.map((s) => `${s.kind} "${s.title}" (${s.source})`).join(', ');
  return `The override is cleared, but ${role} stays ${MODE_WORDS[after.mode]}: held by ${by}.`;
}
