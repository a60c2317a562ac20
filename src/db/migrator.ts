import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import { ROOT } from '../root.ts';
import { runScript } from './run-script.ts';
import type { Database } from './schema.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('migrations/', ROOT));

export interface Migration {
  readonly name: string;
  readonly sha256: string;
  /** The file's text, run as one script (see runScript): Postgres finds the statements. */
  readonly sql: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => /^\d{4}_[\w-]+\.sql$/.test(n)).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(dir + name, 'utf8');
      return { name, sha256: createHash('sha256').update(text).digest('hex'), sql: text };
    }),
  );
}

async function ensureTable(db: Kysely<Database>): Promise<void> {
  await sql`create table if not exists herald_migrations (
    name text primary key, sha256 text not null, applied_at timestamptz not null default now())`.execute(db);
}

export interface MigrationReport {
  readonly applied: readonly string[];
  readonly already: readonly string[];
}

/**
 * Applies every migration not yet recorded, each in its own transaction together with its
 * record, so a migration applies once or not at all. Many instances may start together on one
 * Postgres: a transaction-scoped advisory lock lets one of them migrate at a time.
 * A recorded migration whose file changed is refused: migrations are frozen.
 *
 * Each file runs whole as one script inside that transaction, so a file must not say `begin` or
 * `commit` itself, nor use what cannot run in a transaction (`create index concurrently`).
 */
export async function migrate(db: Kysely<Database>, migrations?: readonly Migration[]): Promise<MigrationReport> {
  const all = migrations ?? (await loadMigrations());
  await ensureTable(db);
  const applied: string[] = [];
  const already: string[] = [];
  for (const m of all) {
    await db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(7460301)`.execute(trx);
      const row = await trx.selectFrom('herald_migrations').select('sha256').where('name', '=', m.name).executeTakeFirst();
      if (row) {
        if (row.sha256 !== m.sha256) {
          throw new Error(`migration ${m.name} was changed after it was applied; add a new migration instead`);
        }
        already.push(m.name);
        return;
      }
      await runScript(trx, m.sql);
      await trx.insertInto('herald_migrations').values({ name: m.name, sha256: m.sha256, applied_at: new Date() }).execute();
      applied.push(m.name);
    });
  }
  return { applied, already };
}

/** Names of migrations on disk that the database has not recorded (for /readyz). */
export async function pendingMigrations(db: Kysely<Database>, migrations: readonly Migration[]): Promise<string[]> {
  const rows = await db.selectFrom('herald_migrations').select('name').execute();
  const done = new Set(rows.map((r) => r.name));
  return migrations.filter((m) => !done.has(m.name)).map((m) => m.name);
}
