import { Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type DatabaseConnection, type Driver } from 'kysely';
import type { Database } from './schema.ts';

/**
 * A database handle for the time before the real one is open (`herald serve` starting, or
 * waiting for a database that is down): every query fails at once with an error that
 * `isDatabaseUnavailable` knows (SQLSTATE 57P03, "cannot connect now"), so writes get a 503 with
 * Retry-After and the public pages are served from the data kept on disk.
 */
export function notOpenDatabase(reason: () => string): Kysely<Database> {
  const fail = (): never => {
    throw Object.assign(new Error(reason()), { code: '57P03' });
  };
  const driver: Driver = {
    init: async () => {},
    acquireConnection: async (): Promise<DatabaseConnection> => fail(),
    beginTransaction: async () => fail(),
    commitTransaction: async () => fail(),
    rollbackTransaction: async () => fail(),
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  return new Kysely<Database>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => driver,
      createQueryCompiler: () => new PostgresQueryCompiler(),
      createIntrospector: (db) => new PostgresIntrospector(db),
    },
  });
}
