import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from './schema.ts';
import { PGliteDialect } from './pglite-dialect.ts';

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly backend: 'pglite' | 'postgres';
  /** The embedded database itself (for dumps and LISTEN); absent on Postgres. */
  readonly pglite?: import('@electric-sql/pglite').PGlite;
  /**
   * Calls `onNotify` for each NOTIFY on `channel`, and `onGap` whenever notifications may have
   * been missed (the listening connection was lost and is back). Returns a function that stops.
   */
  listen(channel: string, onNotify: () => void, onGap: (error?: unknown) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Postgres through `pg`: the path for production and for many instances on one database. */
export async function connectPostgres(url: string, options: { max?: number } = {}): Promise<DatabaseHandle> {
  const { default: pg } = await import('pg');
  // A database that stops answering must not hang requests: connecting gives up after 3 s, a
  // query after 10 s, and TCP keepalive notices a dead peer.
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, connectionTimeoutMillis: 3000, query_timeout: 5_000, keepAlive: true });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    backend: 'postgres',
    listen: (channel, onNotify, onGap) => listenPostgres(pg, url, channel, onNotify, onGap),
    close: () => db.destroy(),
  };
}

/** A dedicated connection that LISTENs, reconnecting every second while the server is away. */
async function listenPostgres(
  pg: typeof import('pg').default,
  url: string,
  channel: string,
  onNotify: () => void,
  onGap: (error?: unknown) => void,
): Promise<() => Promise<void>> {
  let stopped = false;
  let client: import('pg').Client | undefined;
  let lost = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const retry = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, 1000);
    timer.unref?.();
  };
  const connect = async (): Promise<void> => {
    if (stopped) return;
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    c.on('notification', (n) => n.channel === channel && onNotify());
    c.on('error', () => {});
    c.on('end', () => {
      if (stopped || client !== c) return;
      client = undefined;
      lost = true;
      onGap(new Error('notification connection lost'));
      retry();
    });
    try {
      await c.connect();
      await c.query(`listen ${channel}`);
      client = c;
      if (lost) {
        lost = false;
        onGap(); // back: whatever changed meanwhile is unknown, so treat it as a change
      }
    } catch {
      lost = true;
      await c.end().catch(() => {});
      retry();
    }
  };
  await connect();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await client?.end().catch(() => {});
  };
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
    listen: async (channel, onNotify) => pglite.listen(channel, onNotify),
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}
