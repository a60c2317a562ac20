import type { ExpressionBuilder, Expression, SqlBool } from 'kysely';
import type { Database } from '../schema.ts';

/** Where the previous page ended: the last row's sort time (null sorts first, as Postgres puts NULLs in DESC) and id. */
export interface PageKey {
  readonly at: Date | null;
  readonly id: number;
}

type TimeColumn = 'started_at' | 'scheduled_for';

/**
 * Rows strictly after `key` in `order by column desc, id desc` order. Keyset pagination: a row
 * inserted while a client pages never shifts the pages that follow.
 */
export function afterKey(eb: ExpressionBuilder<Database, 'incidents'>, column: TimeColumn, key: PageKey): Expression<SqlBool> {
  if (key.at === null) return eb.or([eb(column, 'is not', null), eb.and([eb(column, 'is', null), eb('id', '<', key.id)])]);
  return eb.or([eb(column, '<', key.at), eb.and([eb(column, '=', key.at), eb('id', '<', key.id)])]);
}
