import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../../src/db/migrator.ts';
import { backendName, freshDatabase } from '../support/db.ts';

/**
 * Applies `files` (name → SQL) as migrations on top of a fresh migrated database (PGlite, or
 * Postgres when TEST_DATABASE_URL is set), then hands the database to `check`.
 */
async function withMigrations(files: Record<string, string>, check: (db: Awaited<ReturnType<typeof freshDatabase>>['db'], outcome: Promise<unknown>) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'herald-migrations-'));
  const handle = await freshDatabase();
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    const outcome = migrate(handle.db, await loadMigrations(`${dir}/`));
    outcome.catch(() => {});
    await check(handle.db, outcome);
  } finally {
    await handle.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe(`migration files run whole (${backendName})`, () => {
  it('when a string literal has a semicolon at the end of a line, the statement is not cut there', async () => {
    const file = "create table notes (id int primary key, body text not null);\ninsert into notes values (1, 'first line;\nsecond line');\n";
    await withMigrations({ '9001_string.sql': file }, async (db, outcome) => {
      expect(await outcome).toEqual({ applied: ['9001_string.sql'], already: expect.any(Array) });
      const rows = await sql<{ body: string }>`select body from notes`.execute(db);
      expect(rows.rows).toEqual([{ body: 'first line;\nsecond line' }]);
    });
  });

  it('when a block comment has a semicolon at the end of a line, the comment stays a comment', async () => {
    const file = '/* Notes for operators;\n   kept in the database. */\ncreate table notes (id int primary key);\n';
    await withMigrations({ '9001_comment.sql': file }, async (db, outcome) => {
      await outcome;
      expect((await sql<{ n: number }>`select count(*)::int as n from notes`.execute(db)).rows).toEqual([{ n: 0 }]);
    });
  });

  it('when a function body is dollar-quoted with a tag, its semicolons do not end the statement', async () => {
    const file = [
      'create function shout(t text) returns text language plpgsql as $body$',
      'begin',
      "  return upper(t) || '!';",
      'end;',
      '$body$;',
      '',
    ].join('\n');
    await withMigrations({ '9001_function.sql': file }, async (db, outcome) => {
      await outcome;
      expect((await sql<{ s: string }>`select shout('hi') as s`.execute(db)).rows).toEqual([{ s: 'HI!' }]);
    });
  });

  it('when a statement of a migration fails, nothing of that migration stays and it is not recorded', async () => {
    const file = 'create table notes (id int primary key);\ninsert into notes values (1);\ninsert into notes values (1);\n';
    await withMigrations({ '9001_fails.sql': file }, async (db, outcome) => {
      await expect(outcome).rejects.toThrow(/duplicate key/);
      const table = await sql<{ t: string | null }>`select to_regclass('public.notes')::text as t`.execute(db);
      expect(table.rows).toEqual([{ t: null }]);
      const recorded = await db.selectFrom('herald_migrations').select('name').where('name', '=', '9001_fails.sql').execute();
      expect(recorded).toEqual([]);
    });
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('migrations on Postgres (herald migrate, herald serve)', () => {
  it('when a migration runs longer than the server pool’s 5 s query timeout, it still applies', async () => {
    const { migrateDatabase } = await import('../../src/entry/node.ts');
    const { parseConfig } = await import('../../src/config.ts');
    const { default: pg } = await import('pg');
    const url = new URL(process.env.TEST_DATABASE_URL!);
    const name = `herald_slow_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const dir = await mkdtemp(join(tmpdir(), 'herald-migrations-'));
    try {
      await writeFile(join(dir, '0001_slow.sql'), 'create table slow (id int);\nselect pg_sleep(6);\n');
      url.pathname = `/${name}`;
      const report = await migrateDatabase(parseConfig({ DATABASE_URL: url.toString() }), undefined, await loadMigrations(`${dir}/`));
      expect(report.applied).toEqual(['0001_slow.sql']);
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
