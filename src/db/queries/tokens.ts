import type { Kysely } from 'kysely';
import type { Database, TokenRow } from '../schema.ts';

type Db = Kysely<Database>;

export function insertToken(db: Db, t: Omit<TokenRow, 'id' | 'last_used_at' | 'revoked_at'>): Promise<TokenRow> {
  return db.insertInto('api_tokens').values(t).returningAll().executeTakeFirstOrThrow();
}

export function findTokenByKeyId(db: Db, keyId: string): Promise<TokenRow | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('key_id', '=', keyId).executeTakeFirst();
}

export function findToken(db: Db, id: number): Promise<TokenRow | undefined> {
  return db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listTokens(db: Db): Promise<TokenRow[]> {
  return db.selectFrom('api_tokens').selectAll().orderBy('id').execute();
}

export async function touchToken(db: Db, id: number, at: Date): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
}

export function revokeToken(db: Db, id: number, at: Date): Promise<TokenRow> {
  return db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Whether any token was ever made (revoked ones count: they are never deleted). */
export async function anyToken(db: Db): Promise<boolean> {
  return (await db.selectFrom('api_tokens').select('id').limit(1).executeTakeFirst()) !== undefined;
}
