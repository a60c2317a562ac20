import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { DatabaseHandle } from '../src/db/connect.ts';
import { freshDatabase } from './support/db.ts';

describe('database smoke', () => {
  let h: DatabaseHandle;
  beforeAll(async () => {
    h = await freshDatabase();
  });
  afterAll(async () => h.close());
  it('has the migrated tables', async () => {
    const r = await sql<{ n: number }>`select count(*)::int4 as n from incidents`.execute(h.db);
    expect(r.rows[0]!.n).toBe(0);
  });
});
