import { describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { connectPGlite } from '../../src/db/connect.ts';
import { loadMigrations, migrate, pendingMigrations } from '../../src/db/migrator.ts';
import type { Database } from '../../src/db/schema.ts';
import { freshDatabase } from '../support/db.ts';

async function describeSchema(db: Kysely<Database>) {
  const columns = await sql`
    select table_name, column_name, data_type, udt_name, is_nullable, column_default, is_identity, identity_generation
    from information_schema.columns where table_schema = 'public' order by table_name, column_name`.execute(db);
  // NOT NULL is compared through the columns above: Postgres 18 also lists it as a constraint.
  const constraints = await sql`
    select conrelid::regclass::text as table_name, conname, contype, pg_get_constraintdef(oid) as def
    from pg_constraint where connamespace = 'public'::regnamespace and contype in ('p', 'f', 'u', 'c')
    order by 1, 2`.execute(db);
  const indexes = await sql`select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' order by 1, 2`.execute(db);
  return { columns: columns.rows, constraints: constraints.rows, indexes: indexes.rows };
}

describe('migrations', () => {
  it('when migrations run twice, each applies once and nothing is pending', async () => {
    const h = await connectPGlite();
    try {
      const all = await loadMigrations();
      const first = await migrate(h.db, all);
      expect(first.applied).toEqual(all.map((m) => m.name));
      const second = await migrate(h.db, all);
      expect(second).toEqual({ applied: [], already: all.map((m) => m.name) });
      expect(await pendingMigrations(h.db, all)).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('when an applied migration file is edited, migrating refuses', async () => {
    const h = await connectPGlite();
    try {
      const all = await loadMigrations();
      await migrate(h.db, all);
      const edited = all.map((m, i) => (i === 0 ? { ...m, sha256: 'f'.repeat(64) } : m));
      await expect(migrate(h.db, edited)).rejects.toThrow(/was changed after it was applied/);
    } finally {
      await h.close();
    }
  });

  // Comparing needs both backends; .ci/run runs the suite a second time with TEST_DATABASE_URL.
  describe.runIf(process.env.TEST_DATABASE_URL)('on PGlite and on Postgres', () => {
    it('when the same migrations are applied to a fresh database on each, the schemas match', async () => {
      const embedded = await connectPGlite();
      const server = await freshDatabase();
      try {
        await migrate(embedded.db);
        const a = await describeSchema(embedded.db);
        const b = await describeSchema(server.db);
        expect(a.columns.length).toBeGreaterThan(40);
        expect(a).toEqual(b);
      } finally {
        await embedded.close();
        await server.close();
      }
    });
  });
});
