import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { connectPGlite, connectPostgres, type DatabaseHandle } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrator.ts';

/**
 * A fresh, migrated database for one test file: a copy of the suite's migrated PGlite, or, when
 * TEST_DATABASE_URL is set, a new database on that Postgres server (dropped on close).
 */
export async function freshDatabase(): Promise<DatabaseHandle> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    const dump = await readFile(inject('pgliteDump'));
    return connectPGlite({ loadDataDir: new Blob([dump]) });
  }
  const { default: pg } = await import('pg');
  const name = `herald_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  const handle = await connectPostgres(target.toString(), { max: 20 });
  await migrate(handle.db);
  return {
    ...handle,
    close: async () => {
      await handle.close();
      const again = new pg.Client({ connectionString: url });
      await again.connect();
      await again.query(`drop database if exists ${name} with (force)`);
      await again.end();
    },
  };
}

export const backendName = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';
