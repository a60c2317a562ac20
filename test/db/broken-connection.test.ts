import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres, type DatabaseHandle } from '../../src/db/connect.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

/**
 * A statement that times out on a frozen server is still in the socket, and the ROLLBACK that
 * follows it never gets sent. A pool that reused that connection would run the next transaction
 * inside the failed one and COMMIT both: a write answered 503 would appear after all.
 */
describe.runIf(process.env.TEST_DATABASE_URL)('when a query times out on a frozen Postgres', () => {
  let cluster: ThrowawayPostgres;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    cluster = await startThrowawayPostgres();
    await cluster.createDatabase('herald');
    // One connection, so that the next transaction would get the very same client.
    handle = await connectPostgres(cluster.url('herald'), { max: 1 });
    await sql`create table marks (name text primary key)`.execute(handle.db);
  });

  afterAll(async () => {
    await handle?.close();
    await cluster?.destroy();
  });

  it('the failed transaction is rolled back, not committed by the next one on the same connection', async () => {
    const failed = handle.db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      cluster.freeze();
      await sql`insert into marks values ('answered 503')`.execute(trx);
    });
    await expect(failed).rejects.toThrow(/Query read timeout/);
    cluster.thaw();
    await handle.db.transaction().execute(async (trx) => {
      await sql`insert into marks values ('answered 201')`.execute(trx);
    });
    const { rows } = await sql<{ name: string }>`select name from marks order by name`.execute(handle.db);
    expect(rows.map((r) => r.name)).toEqual(['answered 201']);
  });
});
