import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from './schema.ts';
import { PGliteDialect } from './pglite-dialect.ts';

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly backend: 'pglite' | 'postgres';
  /** The embedded database itself (for dumps and LISTEN); absent on Postgres. */
  readonly pglite?: import('@electric-sql/pglite').PGlite;
  close(): Promise<void>;
}

/** Postgres through `pg`: the path for production and for many instances on one database. */
export async function connectPostgres(url: string, options: { max?: number } = {}): Promise<DatabaseHandle> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, backend: 'postgres', close: () => db.destroy() };
}

/**
 * The embedded database: Postgres compiled to WebAssembly, persisted in `dataDir`
 * (or in memory when `dataDir` is undefined, or loaded from a dump made by `dumpDataDir`).
 */
export async function connectPGlite(options: { dataDir?: string; loadDataDir?: Blob } = {}): Promise<DatabaseHandle> {
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create({
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir !== undefined ? { loadDataDir: options.loadDataDir } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    backend: 'pglite',
    pglite,
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}
