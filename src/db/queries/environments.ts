import type { Kysely } from 'kysely';
import type { EnvironmentConfig } from '../../config.ts';
import type { Database } from '../schema.ts';

/**
 * Records the configured environments (display name, order). One that leaves the configuration
 * keeps its row, so the history that names it still reads.
 */
export async function syncEnvironments(db: Kysely<Database>, environments: readonly EnvironmentConfig[]): Promise<void> {
  if (environments.length === 0) return;
  await db
    .insertInto('environments')
    .values(environments.map((e, i) => ({ slug: e.slug, name: e.name, position: i })))
    .onConflict((oc) => oc.column('slug').doUpdateSet((eb) => ({ name: eb.ref('excluded.name'), position: eb.ref('excluded.position') })))
    .execute();
}
