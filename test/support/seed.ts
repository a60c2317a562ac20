import type { Kysely } from 'kysely';
import { localChanges, type Changes } from '../../src/cache/changes.ts';
import { parseConfig, type Config } from '../../src/config.ts';
import { seedEnvironments } from '../../src/db/queries/environments.ts';
import type { Database } from '../../src/db/schema.ts';
import { operator, type Actor, type Deps, type Scope } from '../../src/services/deps.ts';
import * as incidents from '../../src/services/incidents.ts';
import * as maintenance from '../../src/services/maintenance.ts';
import { createToken } from '../../src/services/tokens.ts';

/**
 * Fixtures written through the use cases the API calls, each as of a moment of the fixture's
 * choosing (the seeder's own clock): what commanders would have written then, audit rows, mode
 * history and all. Nothing here writes rows by hand.
 */
export function seeder(db: Kysely<Database>, options: { config?: Config; changes?: Changes } = {}) {
  let current = new Date();
  const deps: Deps = { db, config: options.config ?? parseConfig({}), changes: options.changes ?? localChanges(), clock: { now: () => current } };
  // The environments of its configuration, as a first start seeds them (a no-op once there are any).
  let seeded: Promise<void> | undefined;
  const asOf = async (at: Date | string | undefined) => {
    current = at === undefined ? new Date() : new Date(at);
    await (seeded ??= seedEnvironments(db, deps.config.environments));
  };

  return {
    deps,
    /** A bearer token with `scopes`, and the actor it acts as. */
    async token(scopes: readonly Scope[] = ['admin'], name = `t-${scopes.join('-')}`, at?: Date | string): Promise<{ token: string; actor: Actor }> {
      await asOf(at);
      const made = await createToken(deps, { actor: operator('test') }, { name, scopes });
      return { token: made.token, actor: { tokenId: made.id, name: made.name, scopes } };
    },
    /** An incident opened as of `at` (default: its body's `at`, else now). */
    async incident(actor: Actor, body: { title: string; message: string; at?: string; [k: string]: unknown }) {
      await asOf(body.at);
      return (await incidents.openIncident(deps, { actor }, body)).value;
    },
    async update(actor: Actor, id: number, body: { message: string; at?: string; [k: string]: unknown }) {
      await asOf(body.at);
      return (await incidents.postUpdate(deps, { actor }, id, body)).value;
    },
    /** A maintenance announced as of `at`. */
    async maintenance(actor: Actor, at: string, body: { title: string; message: string; [k: string]: unknown }) {
      await asOf(at);
      return (await maintenance.scheduleMaintenance(deps, { actor }, body)).value;
    },
  };
}

/** A token on `db`, made through the use case: its bearer secret. */
export async function seedToken(db: Kysely<Database>, scopes: readonly Scope[] = ['admin'], name?: string): Promise<string> {
  return (await seeder(db).token(scopes, name)).token;
}
