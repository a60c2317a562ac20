import { localChanges } from '../../src/cache/changes.ts';
import { fixedClock } from '../../src/clock.ts';
import { createApp } from '../../src/app.ts';
import { nodeCompress } from '../../src/entry/node.ts';
import { parseConfig, type Config } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { pendingMigrations, loadMigrations } from '../../src/db/migrator.ts';
import { seedEnvironments } from '../../src/db/queries/environments.ts';
import { databaseReadiness } from '../../src/routes/health.ts';
import type { Scope } from '../../src/services/deps.ts';
import { seeder } from './seed.ts';

export const T0 = '2026-03-01T10:00:00.000Z';

/**
 * A real app on a real database with a settable clock (starting at T0) and a captured log.
 * `token(scopes)` makes a bearer token on that database.
 */
export async function testApp(handle: DatabaseHandle, env: Record<string, string> = {}) {
  const config: Config = parseConfig({ PUBLIC_URL: 'https://status.example.com', ...env });
  const clock = fixedClock(T0);
  const logs: string[] = [];
  await seedEnvironments(handle.db, config.environments);
  const migrations = await loadMigrations();
  const changes = localChanges();
  /** How many writes told the delivery loops they queued something (a server's loops wake on it). */
  let queued = 0;
  const deps = { db: handle.db, clock, config, changes, queued: () => void queued++ };
  // A test asserts that a write is on the next page, not how fast: under CI's load a full rebuild
  // on Postgres can take longer than the production budget of 2 s (snapshot tests measure that).
  const app = createApp({ ...deps, freshWaitMs: 20_000, compress: nodeCompress, log: (l) => logs.push(l), readiness: databaseReadiness(deps, () => pendingMigrations(handle.db, migrations)) });

  async function token(scopes: Scope[] = ['admin'], name = `t-${scopes.join('-')}`): Promise<string> {
    return (await seeder(handle.db).token(scopes, name, clock.now())).token;
  }

  /** JSON request helper: returns status, headers and parsed body. */
  async function call(method: string, path: string, options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined || options.raw !== undefined) headers['content-type'] ??= 'application/json';
    const res = await app.request(path, {
      method,
      headers,
      ...(options.raw !== undefined ? { body: options.raw } : options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, headers: res.headers, body };
  }

  return { app, config, clock, logs, token, call, changes, db: handle.db, deps, queued: () => queued };
}
