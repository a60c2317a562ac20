import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { connectPGlite, type DatabaseHandle } from '../../src/db/connect.ts';
import { loadMigrations, migrate } from '../../src/db/migrator.ts';
import * as q from '../../src/db/queries/incidents.ts';
import { PublicDataBuilder } from '../../src/services/public-data.ts';
import { freshDatabase } from '../support/db.ts';
import { seeder } from '../support/seed.ts';

let handle: DatabaseHandle;
beforeAll(async () => {
  handle = await freshDatabase();
});
afterAll(async () => {
  await handle.close();
});

describe('closedTimelinesSince', () => {
  it('gives each closed incident its updates in timeline order (at, then id), whatever order they were written in', async () => {
    const seed = seeder(handle.db);
    const { actor } = await seed.token(['admin'], 'timelines', '2031-05-01T09:00:00Z');
    const opened = await seed.incident(actor, { title: `Order ${Math.random()}`, message: 'Opened.', statuses: { production: 'red' }, at: '2031-05-01T10:00:00Z' });
    await seed.update(actor, opened.id, { message: 'Written second, happened third.', state: 'monitoring', statuses: { production: 'yellow' }, at: '2031-05-01T12:00:00Z' });
    await seed.update(actor, opened.id, { message: 'Written third, happened second.', state: 'identified', at: '2031-05-01T11:00:00Z' });
    await seed.update(actor, opened.id, { message: 'Written fourth, at the same moment as the second.', at: '2031-05-01T12:00:00Z' });
    await seed.update(actor, opened.id, { message: 'Resolved.', state: 'resolved', at: '2031-05-01T13:00:00Z' });

    const rows = await q.closedTimelinesSince(handle.db, new Date('2031-05-01T00:00:00Z'));
    const mine = rows.find((r) => r.id === opened.id);
    expect(mine).toBeDefined();
    const points = mine!.timeline!;
    expect(mine!.stretches).toBeNull();
    expect(points.map((p) => new Date(p[0]).toISOString())).toEqual(['2031-05-01T10:00:00.000Z', '2031-05-01T11:00:00.000Z', '2031-05-01T12:00:00.000Z', '2031-05-01T12:00:00.000Z', '2031-05-01T13:00:00.000Z']);
    expect(points[2]![1]).toBeLessThan(points[3]![1]);
    expect(points.map((p) => p[2])).toEqual(['investigating', 'identified', 'monitoring', 'monitoring', 'resolved']);
  });

  it('gives every incident closed at or after the date once, and none that closed before it', async () => {
    const seed = seeder(handle.db);
    const { actor } = await seed.token(['admin'], 'timelines-all', '2032-03-01T09:00:00Z');
    const closeAt = async (title: string, day: string) => {
      const opened = await seed.incident(actor, { title, message: 'Opened.', statuses: { production: 'yellow' }, at: `${day}T10:00:00Z` });
      await seed.update(actor, opened.id, { message: 'Resolved.', state: 'resolved', at: `${day}T11:00:00Z` });
      return opened.id;
    };
    const before = await closeAt('Closed before', '2032-03-01');
    const inside: number[] = [];
    for (let i = 0; i < 5; i++) inside.push(await closeAt(`Closed inside ${i}`, '2032-03-03'));

    const ids = (await q.closedTimelinesSince(handle.db, new Date('2032-03-02T00:00:00Z'))).map((r) => r.id);
    expect(ids.filter((id) => inside.includes(id)).sort((a, b) => a - b)).toEqual(inside);
    expect(ids).not.toContain(before);
  });
});

describe('kept stretches on a database upgraded from before migration 0009', () => {
  it('when incidents written before the marks existed are migrated, each gets a mark, and a full build keeps its stretches', async () => {
    const h = await connectPGlite();
    try {
      const all = await loadMigrations();
      await migrate(h.db, all.filter((m) => m.name < '0009'));
      const [t0, t1] = [Date.parse('2033-01-10T10:00:00Z'), Date.parse('2033-01-10T12:30:00Z')];
      const { rows } = await sql<{ id: number }>`
        insert into incidents (title, state, started_at, resolved_at, updated_at, created_at, created_by)
        values ('Written before the marks', 'resolved', ${new Date(t0)}, ${new Date(t1)}, ${new Date(t1)}, ${new Date(t0)}, 'importer') returning id`.execute(h.db);
      const id = rows[0]!.id;
      await sql`
        insert into incident_updates (incident_id, at, created_at, state, message, statuses, author) values
          (${id}, ${new Date(t0)}, ${new Date(t0)}, 'investigating', 'Down.', '{"production":"red"}', 'importer'),
          (${id}, ${new Date(t1)}, ${new Date(t1)}, 'resolved', 'Up.', '{}', 'importer')`.execute(h.db);
      await migrate(h.db, all);

      const since = new Date(t0 - 86_400_000);
      const before = (await q.closedTimelinesSince(h.db, since)).find((r) => r.id === id)!;
      expect(before.mark).not.toBeNull();
      expect(before.timeline).toHaveLength(2);
      const builder = new PublicDataBuilder(h.db, parseConfig({ PUBLIC_URL: 'https://status.example.com' }));
      await builder.build(new Date(t1 + 86_400_000));
      await builder.stored;
      const after = (await q.closedTimelinesSince(h.db, since)).find((r) => r.id === id)!;
      expect(after.timeline).toBeNull();
      expect(after.stretches).toEqual([['production', 'red', t0, t1]]);
    } finally {
      await h.close();
    }
  });
});
