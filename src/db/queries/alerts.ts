import { sql, type Insertable, type Kysely, type Updateable } from 'kysely';
import type { AlertGroupRow, AlertInboxRow, AlertInboxTable, AlertRuleRow, AlertRulesTable, Database } from '../schema.ts';

type Db = Kysely<Database>;

export type NewRule = Omit<Insertable<AlertRulesTable>, 'id' | 'removed_at'>;

export function listRules(db: Db): Promise<AlertRuleRow[]> {
  return db.selectFrom('alert_rules').selectAll().where('removed_at', 'is', null).orderBy('position').orderBy('id').execute();
}

export function findRule(db: Db, id: number, options: { readonly lock?: boolean } = {}): Promise<AlertRuleRow | undefined> {
  let q = db.selectFrom('alert_rules').selectAll().where('id', '=', id).where('removed_at', 'is', null);
  if (options.lock) q = q.forUpdate();
  return q.executeTakeFirst();
}

/** Serializes rule writes, so that positions are renumbered by one writer at a time. */
export async function lockRules(db: Db): Promise<void> {
  await sql`lock table alert_rules in share row exclusive mode`.execute(db);
}

export function insertRule(db: Db, rule: NewRule): Promise<AlertRuleRow> {
  return db.insertInto('alert_rules').values(rule).returningAll().executeTakeFirstOrThrow();
}

export function updateRule(db: Db, id: number, values: Omit<Updateable<AlertRulesTable>, 'id'>): Promise<AlertRuleRow> {
  return db
    .updateTable('alert_rules')
    .set(values)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Positions 1…n in the current order, the rule `moved` placed at `position`. */
export async function renumber(db: Db, moved: number, position: number): Promise<void> {
  const rows = await db.selectFrom('alert_rules').select(['id']).where('removed_at', 'is', null).orderBy('position').orderBy('id').execute();
  const ids = rows.map((r) => r.id).filter((id) => id !== moved);
  if (rows.some((r) => r.id === moved)) ids.splice(Math.max(0, Math.min(ids.length, position - 1)), 0, moved);
  for (const [i, id] of ids.entries()) await db.updateTable('alert_rules').set({ position: i + 1 }).where('id', '=', id).where('position', '!=', i + 1).execute();
}

export async function insertVersion(db: Db, ruleId: number, version: number, rule: unknown, at: Date, by: string): Promise<void> {
  await db.insertInto('alert_rule_versions').values({ rule_id: ruleId, version, rule: JSON.stringify(rule), changed_at: at, changed_by: by }).execute();
}

export function versionsOf(db: Db, ruleId: number) {
  return db.selectFrom('alert_rule_versions').selectAll().where('rule_id', '=', ruleId).orderBy('version', 'desc').execute();
}

/** The group's row, created if new, locked for the rest of the transaction. */
export async function lockGroup(db: Db, ruleId: number, source: string, groupKey: string, now: Date): Promise<AlertGroupRow> {
  await db
    .insertInto('alert_groups')
    .values({ rule_id: ruleId, source, group_key: groupKey, incident_id: null, known: '{}', posted: '[]', updated_at: now })
    .onConflict((oc) => oc.doNothing())
    .execute();
  return db
    .selectFrom('alert_groups')
    .selectAll()
    .where('rule_id', '=', ruleId)
    .where('source', '=', source)
    .where('group_key', '=', groupKey)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

export async function saveGroup(db: Db, g: Pick<AlertGroupRow, 'rule_id' | 'source' | 'group_key' | 'incident_id' | 'updated_at'> & { known: string; posted: string }): Promise<void> {
  await db
    .updateTable('alert_groups')
    .set({ incident_id: g.incident_id, known: g.known, posted: g.posted, updated_at: g.updated_at })
    .where('rule_id', '=', g.rule_id)
    .where('source', '=', g.source)
    .where('group_key', '=', g.group_key)
    .execute();
}

export async function insertInbox(db: Db, row: Omit<Insertable<AlertInboxTable>, 'id'>): Promise<string> {
  const { id } = await db.insertInto('alert_inbox').values(row).returning('id').executeTakeFirstOrThrow();
  return String(id);
}

export function listInbox(db: Db, options: { readonly limit: number; readonly before?: string | undefined }): Promise<AlertInboxRow[]> {
  let q = db.selectFrom('alert_inbox').selectAll().orderBy('id', 'desc').limit(options.limit);
  if (options.before !== undefined) q = q.where('id', '<', options.before);
  return q.execute();
}

export function findInbox(db: Db, id: string): Promise<AlertInboxRow | undefined> {
  return db.selectFrom('alert_inbox').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Removes inbox rows received before `before`; how many. */
export async function pruneInbox(db: Db, before: Date): Promise<number> {
  const r = await db.deleteFrom('alert_inbox').where('received_at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
