import { describe, expect, it } from 'vitest';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';

const HOUR = 3_600_000;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

/** A test app on its own fresh database, and an admin token; closed after `run`. */
async function withApp(run: (t: Awaited<ReturnType<typeof testApp>>, admin: string) => Promise<void>) {
  const handle = await freshDatabase();
  try {
    const t = await testApp(handle);
    await run(t, await t.token(['admin']));
  } finally {
    await handle.close();
  }
}

describe('override with an expected end', () => {
  it('when an override is set with until and refresh, the role carries retry_after and refresh, and GET /platform sends Retry-After', async () => {
    await withApp(async (t, admin) => {
      const until = at(2 * HOUR);
      const set = await t.call('PUT', '/api/v1/platform/roles/web/override', { token: admin, body: { mode: 'maintenance', reason: 'Database upgrade', until, refresh: 30 } });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
      expect(set.body.override).toMatchObject({ until, refresh: 30 });
      expect(set.body.role).toMatchObject({ mode: 'maintenance', retry_after: until, refresh: 30, sources: [expect.objectContaining({ kind: 'override', until })] });
      const platform = await t.call('GET', '/api/v1/platform?role=web');
      expect(platform.headers.get('retry-after')).toBe(new Date(until).toUTCString());
      expect(platform.body.roles[0]).toMatchObject({ retry_after: until, refresh: 30 });
    });
  });

  it('when until is not a time with a timezone or not in the future, or refresh is not whole seconds up to a day, the override is refused naming the field', async () => {
    await withApp(async (t, admin) => {
      const put = (body: object) => t.call('PUT', '/api/v1/platform/roles/web/override', { token: admin, body: { mode: 'maintenance', reason: 'x', ...body } });
      for (const body of [{ until: 'tomorrow' }, { until: '2026-03-01T12:00:00' }, { until: at(-HOUR) }, { until: T0 }]) {
        const r = await put(body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.errors.map((e: any) => e.path)).toEqual(['until']);
      }
      for (const refresh of [0, 1.5, 86401, '30']) {
        const r = await put({ refresh });
        expect(r.status, String(refresh)).toBe(400);
        expect(r.body.errors.map((e: any) => e.path)).toEqual(['refresh']);
      }
      expect((await t.call('GET', '/api/v1/platform?role=web')).body.roles[0].mode).toBe('full');
    });
  });

  it('when the expected end passes, the override still holds (until is a promise to clients, not a timer) and the end is still reported', async () => {
    await withApp(async (t, admin) => {
      const until = at(HOUR);
      expect((await t.call('PUT', '/api/v1/platform/roles/web/override', { token: admin, body: { mode: 'read_only', reason: 'Reindex', until } })).status).toBe(200);
      t.clock.set(at(3 * HOUR));
      t.changes.notify();
      expect((await t.call('GET', '/api/v1/platform?role=web')).body.roles[0]).toMatchObject({ mode: 'read_only', retry_after: until, refresh: null });
    });
  });
});
