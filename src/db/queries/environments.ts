import { sql, type Kysely } from 'kysely';
import type { EnvironmentConfig } from '../../config.ts';
import type { Catalog, Component, ComponentGroup } from '../../domain/components.ts';
import type { Database } from '../schema.ts';

type Db = Kysely<Database>;

/** Every component and group, retired ones included: two small reads. */
export async function loadCatalog(db: Db): Promise<Catalog> {
  const [components, groups] = await Promise.all([
    db
      .selectFrom('environments')
      .select(['slug', 'name', 'description', 'group_slug', 'position', 'only_show_if_degraded', 'showcase', 'created_at', 'updated_at', 'retired_at'])
      .select(sql<string | null>`start_date::text`.as('start_date'))
      .orderBy('position')
      .orderBy('slug')
      .execute(),
    db.selectFrom('environment_groups').selectAll().orderBy('position').orderBy('slug').execute(),
  ]);
  return {
    components: components.map(
      (r): Component => ({
        slug: r.slug,
        name: r.name,
        description: r.description,
        group: r.group_slug,
        position: r.position,
        only_show_if_degraded: r.only_show_if_degraded,
        showcase: r.showcase,
        start_date: r.start_date,
        created_at: r.created_at,
        updated_at: r.updated_at,
        retired_at: r.retired_at,
      }),
    ),
    groups: groups.map((g): ComponentGroup => ({ ...g })),
  };
}

/**
 * Seeds the components from HERALD_ENVIRONMENTS, once: only while there is none at all. After
 * that they are data, managed through the API, the console and the CLI.
 */
export async function seedEnvironments(db: Db, environments: readonly EnvironmentConfig[]): Promise<void> {
  if (environments.length === 0) return;
  await db.transaction().execute(async (trx) => {
    // One seeder at a time (two instances starting at once), and only into an empty table.
    await sql`lock table environments in share row exclusive mode`.execute(trx);
    const any = await trx.selectFrom('environments').select('slug').limit(1).executeTakeFirst();
    if (any) return;
    await trx
      .insertInto('environments')
      .values(environments.map((e, i) => ({ slug: e.slug, name: e.name, position: i + 1, description: null, group_slug: null, retired_at: null })))
      .execute();
  });
}

/**
 * Serialises the writes of components and groups (the slug namespace spans both tables, and a
 * move renumbers siblings): the first statement of each such transaction. Reads are not blocked;
 * nor are incident writes, which never write these tables.
 */
export async function lockCatalog(db: Db): Promise<void> {
  await sql`lock table environments in share row exclusive mode`.execute(db);
}

export type ComponentFields = {
  name: string;
  description: string | null;
  group_slug: string | null;
  position: number;
  only_show_if_degraded: boolean;
  showcase: boolean;
  start_date: string | null;
};

export async function insertComponent(db: Db, slug: string, fields: ComponentFields, now: Date): Promise<void> {
  await db.insertInto('environments').values({ slug, ...fields, created_at: now, updated_at: now, retired_at: null }).execute();
}

export async function updateComponent(db: Db, slug: string, fields: Partial<ComponentFields> & { retired_at?: Date | null }, now: Date): Promise<void> {
  await db.updateTable('environments').set({ ...fields, updated_at: now }).where('slug', '=', slug).execute();
}

export type GroupFields = { name: string; description: string | null; position: number };

export async function insertGroup(db: Db, slug: string, fields: GroupFields, now: Date): Promise<void> {
  await db.insertInto('environment_groups').values({ slug, ...fields, created_at: now, updated_at: now, retired_at: null }).execute();
}

export async function updateGroup(db: Db, slug: string, fields: Partial<GroupFields> & { retired_at?: Date | null }, now: Date): Promise<void> {
  await db.updateTable('environment_groups').set({ ...fields, updated_at: now }).where('slug', '=', slug).execute();
}

/** Sets positions only (a renumbering of siblings is not an edit of each: updated_at stays). */
export async function setPositions(db: Db, table: 'environments' | 'environment_groups', positions: readonly { readonly slug: string; readonly position: number }[]): Promise<void> {
  for (const p of positions) await db.updateTable(table).set({ position: p.position }).where('slug', '=', p.slug).execute();
}

/** The Statuspage page id, made once by the components migration. */
export async function pageIdOf(db: Db): Promise<string> {
  const row = await db.selectFrom('herald_settings').select('value').where('name', '=', 'page_id').executeTakeFirst();
  return row?.value ?? 'herald';
}
