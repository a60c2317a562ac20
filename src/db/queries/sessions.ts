import type { Kysely } from 'kysely';
import type { Database, SessionRow } from '../schema.ts';

type Db = Kysely<Database>;

export function insertSession(db: Db, s: Omit<SessionRow, 'id' | 'ended_at'>): Promise<SessionRow> {
  return db.insertInto('console_sessions').values(s).returningAll().executeTakeFirstOrThrow();
}

export function findSession(db: Db, secretSha256: string): Promise<SessionRow | undefined> {
  return db.selectFrom('console_sessions').selectAll().where('secret_sha256', '=', secretSha256).executeTakeFirst();
}

export async function endSession(db: Db, id: number, at: Date): Promise<void> {
  await db.updateTable('console_sessions').set({ ended_at: at }).where('id', '=', id).where('ended_at', 'is', null).execute();
}

export async function insertLink(db: Db, link: { secret_sha256: string; token_id: number; created_at: Date; expires_at: Date }): Promise<void> {
  await db.insertInto('signin_links').values(link).execute();
}

export function findLink(db: Db, secretSha256: string) {
  return db.selectFrom('signin_links').selectAll().where('secret_sha256', '=', secretSha256).executeTakeFirst();
}

/** Marks an unused, unexpired link used; the row comes back only to the one caller that did it. */
export function useLink(db: Db, secretSha256: string, now: Date) {
  return db
    .updateTable('signin_links')
    .set({ used_at: now })
    .where('secret_sha256', '=', secretSha256)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
}

export async function insertFailure(db: Db, address: string, at: Date): Promise<void> {
  await db.insertInto('signin_failures').values({ address, at }).execute();
}

/** The latest `limit` failed sign-ins from `address` after `since`, newest first. */
export function failuresSince(db: Db, address: string, since: Date, limit: number) {
  return db.selectFrom('signin_failures').select('at').where('address', '=', address).where('at', '>', since).orderBy('at', 'desc').limit(limit).execute();
}

/** Failures older than the rate-limit window say nothing any more. */
export async function pruneFailures(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('signin_failures').where('at', '<', before).execute();
}

export async function findOrCreateKey(db: Db, name: string, fresh: string, now: Date): Promise<string> {
  await db.insertInto('herald_keys').values({ name, secret: fresh, created_at: now }).onConflict((oc) => oc.column('name').doNothing()).execute();
  const row = await db.selectFrom('herald_keys').select('secret').where('name', '=', name).executeTakeFirstOrThrow();
  return row.secret;
}

export async function findKey(db: Db, name: string): Promise<string | undefined> {
  return (await db.selectFrom('herald_keys').select('secret').where('name', '=', name).executeTakeFirst())?.secret;
}

export async function deleteKey(db: Db, name: string): Promise<void> {
  await db.deleteFrom('herald_keys').where('name', '=', name).execute();
}
