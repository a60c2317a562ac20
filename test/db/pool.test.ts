import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres } from '../../src/db/connect.ts';
import { waitFor } from '../support/upstream.ts';

/**
 * The pool of `herald serve` on Postgres keeps connections open (connectPostgres's keepOpen):
 * opened at start, before any query, and not closed when idle, so the first build of the public
 * data after a quiet spell does not open them again. Each case has a database of its own, whose
 * connections pg_stat_activity counts.
 */
describe.runIf(process.env.TEST_DATABASE_URL)('the Postgres pool', () => {
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  const made: string[] = [];

  beforeAll(() => admin.connect());
  afterAll(async () => {
    for (const name of made) await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  });

  async function database(): Promise<{ url: string; connections: () => Promise<number> }> {
    const name = `herald_pool_${process.pid}_${made.length}`;
    made.push(name);
    await admin.query(`create database ${name}`);
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = `/${name}`;
    const connections = async () => Number((await admin.query('select count(*) from pg_stat_activity where datname = $1 and application_name = $2', [name, 'herald'])).rows[0].count);
    return { url: url.href, connections };
  }

  /** Eight queries at once (the pool opens eight connections), then an idle spell past the timeout. */
  async function burstThenIdle(db: Awaited<ReturnType<typeof connectPostgres>>['db'], connections: () => Promise<number>): Promise<number> {
    await Promise.all(Array.from({ length: 8 }, () => sql`select pg_sleep(0.05)`.execute(db)));
    // At least eight: a kept connection that pg_stat_activity already shows may not be in the
    // pool's hands yet when the burst starts, and the pool then opens one more (seen once in CI).
    expect(await connections()).toBeGreaterThanOrEqual(8);
    await new Promise((resolve) => setTimeout(resolve, 600));
    return connections();
  }

  it('with keepOpen, the connections are open before any query, and that many stay open when idle', async () => {
    const { url, connections } = await database();
    const handle = await connectPostgres(url, { keepOpen: 3, idleTimeoutMs: 200 });
    try {
      expect((await waitFor(async () => (await connections()) === 3, 5_000)).value).toBe(true);
      expect(await burstThenIdle(handle.db, connections)).toBe(3);
    } finally {
      await handle.close();
    }
  });

  it('without it, no connection is open before the first query, and none stays open when idle', async () => {
    const { url, connections } = await database();
    const handle = await connectPostgres(url, { idleTimeoutMs: 200 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await connections()).toBe(0);
      expect(await burstThenIdle(handle.db, connections)).toBe(0);
    } finally {
      await handle.close();
    }
  });
});
