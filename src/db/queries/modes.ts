import { sql, type Kysely } from 'kysely';
import type { Database, ModeChangeRow, OverrideRow } from '../schema.ts';

type Db = Kysely<Database>;

/** The override in force per role (at most one: a unique index on uncleared rows). */
export function activeOverrides(db: Db): Promise<OverrideRow[]> {
  return db.selectFrom('mode_overrides').selectAll().where('cleared_at', 'is', null).orderBy('role').execute();
}

export function insertOverride(db: Db, o: Omit<OverrideRow, 'id' | 'cleared_at' | 'cleared_by' | 'clear_reason' | 'until' | 'refresh_seconds'> & Partial<Pick<OverrideRow, 'until' | 'refresh_seconds'>>): Promise<OverrideRow> {
  return db.insertInto('mode_overrides').values(o).returningAll().executeTakeFirstOrThrow();
}

export function clearOverride(db: Db, id: number, at: Date, by: string, reason: string | null): Promise<OverrideRow> {
  return db
    .updateTable('mode_overrides')
    .set({ cleared_at: at, cleared_by: by, clear_reason: reason })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * The newest recorded change of each role: the mode it is recorded to be in, and since when.
 * One index probe per role, however long the history.
 */
export async function latestModeChanges(db: Db, roles: readonly string[]): Promise<ModeChangeRow[]> {
  if (roles.length === 0) return [];
  const r = await sql<ModeChangeRow>`
    select c.* from unnest(${[...roles]}::text[]) as r(role)
    cross join lateral (select * from mode_changes m where m.role = r.role order by m.id desc limit 1) c`.execute(db);
  return r.rows;
}

export interface NewModeChange {
  readonly role: string;
  readonly from_mode: string;
  readonly to_mode: string;
  readonly at: Date;
  readonly sources: readonly string[];
  readonly cause: string;
}

export function insertModeChanges(db: Db, rows: readonly NewModeChange[]) {
  if (rows.length === 0) return Promise.resolve();
  return db
    .insertInto('mode_changes')
    .values(rows.map((r) => ({ role: r.role, from_mode: r.from_mode, to_mode: r.to_mode, at: r.at, cause: r.cause, sources: JSON.stringify(r.sources) })))
    .execute();
}

export function modeHistory(db: Db, role: string, limit = 100): Promise<ModeChangeRow[]> {
  return db.selectFrom('mode_changes').selectAll().where('role', '=', role).orderBy('id', 'desc').limit(limit).execute();
}

/** Serialises the mode bookkeeping of concurrent writes (held until the transaction ends). */
export async function lockModes(db: Db): Promise<void> {
  await sql`select pg_advisory_xact_lock(7460302)`.execute(db);
}
