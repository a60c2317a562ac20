import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

/**
 * Postgres for Cloudflare Workers, through Hyperdrive. A Worker must not keep a socket beyond the
 * request that opened it (and Hyperdrive pools connections on Cloudflare's side), so this "pool"
 * opens a fresh `pg` Client for every acquire and ends it on release: a plain query holds a
 * connection for that query, a transaction for the transaction. `drain()` resolves once every
 * connection opened so far is released and closed; the Worker hands it to `ctx.waitUntil`.
 */
export interface WorkerDatabase {
  readonly db: Kysely<Database>;
  /** Settles when no connection is open or closing (or after `timeoutMs`). */
  drain(timeoutMs?: number): Promise<void>;
  /** Connections currently open or closing (for tests and logs). */
  readonly openConnections: number;
}

export function workerDatabase(connectionString: string): WorkerDatabase {
  /** One entry per connection not yet fully closed; settles when it is. */
  const live = new Set<Promise<void>>();

  const pool: PostgresPool = {
    async connect(): Promise<PostgresPoolClient> {
      const client = new pg.Client({ connectionString, connectionTimeoutMillis: 3000, query_timeout: 5_000 });
      // A server that goes away mid-request must not throw outside the query that notices it.
      client.on('error', () => {});
      let settle!: () => void;
      const closed = new Promise<void>((resolve) => (settle = resolve));
      live.add(closed);
      void closed.then(() => live.delete(closed));
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => {});
        settle();
        throw error;
      }
      let released = false;
      return {
        query: client.query.bind(client) as PostgresPoolClient['query'],
        release() {
          if (released) return;
          released = true;
          client.end().catch(() => {}).finally(settle);
        },
      };
    },
    async end() {
      await drain();
    },
  };

  async function drain(timeoutMs = 25_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (live.size > 0 && Date.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
      await Promise.race([Promise.allSettled([...live]), timeout]);
      clearTimeout(timer);
    }
  }

  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    drain,
    get openConnections() {
      return live.size;
    },
  };
}
