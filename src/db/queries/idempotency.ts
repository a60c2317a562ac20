import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

type Db = Kysely<Database>;

/**
 * Claims an idempotency key inside the caller's transaction. On Postgres a concurrent claim of
 * the same key waits on the unique index until the first transaction ends, so a retry that races
 * the original sees its committed response instead of running twice.
 */
export async function claimKey(db: Db, tokenId: number, key: string, fingerprint: string, at: Date): Promise<boolean> {
  const row = await db
    .insertInto('idempotency_keys')
    .values({ token_id: tokenId, key, fingerprint, body: 'null', created_at: at })
    .onConflict((oc) => oc.columns(['token_id', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  return row !== undefined;
}

export function findKey(db: Db, tokenId: number, key: string) {
  return db.selectFrom('idempotency_keys').selectAll().where('token_id', '=', tokenId).where('key', '=', key).executeTakeFirst();
}

export async function saveResponse(db: Db, tokenId: number, key: string, body: unknown): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ body: JSON.stringify(body) })
    .where('token_id', '=', tokenId)
    .where('key', '=', key)
    .execute();
}
