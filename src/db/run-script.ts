import { CompiledQuery, type Kysely } from 'kysely';

const SCRIPT = Symbol('herald.sql-script');

/**
 * Runs a SQL script of many statements as one, the way `psql -f` would: Postgres itself finds
 * where each statement ends, so dollar-quoted bodies, strings and comments holding semicolons
 * mean what they say. Nothing is split on our side, so nothing can be split wrongly.
 *
 *   await runScript(trx, 'create table a (x int); create index on a (x);');
 *
 * A script takes no parameters: it is sent with the simple query protocol, the one that accepts
 * many statements. With `pg`, a query without parameters already goes that way; PGlite's
 * `query` always uses the extended protocol (one statement per call), so its dialect sees the
 * mark set here and calls `pglite.exec` instead. Inside a transaction the script runs in it.
 */
export async function runScript(db: Kysely<any>, script: string): Promise<void> {
  const query: CompiledQuery & { readonly [SCRIPT]: true } = { ...CompiledQuery.raw(script), [SCRIPT]: true };
  await db.executeQuery(query);
}

/** True for a query made by `runScript`: a dialect must run it as a multi-statement script. */
export function isScript(query: CompiledQuery): boolean {
  return (query as { readonly [SCRIPT]?: true })[SCRIPT] === true;
}
