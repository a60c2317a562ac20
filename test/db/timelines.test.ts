import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import * as q from '../../src/db/queries/incidents.ts';
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
