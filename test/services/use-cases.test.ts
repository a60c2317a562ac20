import type { KyselyPlugin, OperationNode, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { localChanges } from '../../src/cache/changes.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { AppError } from '../../src/errors.ts';
import type { Deps } from '../../src/services/deps.ts';
import * as incidents from '../../src/services/incidents.ts';
import * as maintenance from '../../src/services/maintenance.ts';
import { schedulerTick } from '../../src/services/scheduler.ts';
import { createToken } from '../../src/services/tokens.ts';
import { freshDatabase } from '../support/db.ts';
import { seeder } from '../support/seed.ts';

/** Records each statement a Kysely instance runs: its kind and the table it names first. */
class StatementLog implements KyselyPlugin {
  readonly statements: string[] = [];
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.statements.push(statementOf(args.node));
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

function statementOf(node: OperationNode): string {
  const n = node as unknown as Record<string, any>;
  const table = (t: any) => t?.table?.identifier?.name ?? t?.identifier?.name ?? '?';
  switch (node.kind) {
    case 'SelectQueryNode':
      return `select ${n.from?.froms?.map(table).join(',') ?? ''}${n.endModifiers?.some((m: any) => m.modifier === 'ForUpdate') ? ' for update' : ''}`.trim();
    case 'InsertQueryNode':
      return `insert ${table(n.into)}`;
    case 'UpdateQueryNode':
      return `update ${table(n.table)}`;
    case 'DeleteQueryNode':
      return `delete ${n.from?.froms?.map(table).join(',')}`;
    case 'RawNode':
      return `raw ${String(n.sqlFragments?.[0] ?? '').trim().split(/\s+/).slice(0, 2).join(' ')}`;
    default:
      return node.kind;
  }
}

let handle: DatabaseHandle;
beforeAll(async () => {
  handle = await freshDatabase();
});
afterAll(async () => {
  await handle.close();
});

/** A seeder whose use cases run on a database that logs its statements, and counts change notifications. */
function counted(on: DatabaseHandle = handle) {
  const log = new StatementLog();
  const changes = localChanges();
  let notified = 0;
  changes.subscribe(() => void notified++);
  const seed = seeder(on.db.withPlugin(log), { changes });
  return { log, seed, deps: seed.deps as Deps, notified: () => notified };
}

describe('postUpdate', () => {
  it("runs one transaction, reads the incident's timeline once, and holds the statement count of one update", async () => {
    // a database of its own: no other test's open incident adds its timeline to the count
    const own = await freshDatabase();
    onTestFinished(() => own.close());
    const { log, seed, deps } = counted(own);
    const { actor } = await seed.token(['incidents:write'], 'counted');
    const opened = await seed.incident(actor, { title: 'Counted', message: 'Looking.', statuses: { production: 'yellow' } });
    log.statements.length = 0;

    const done = await incidents.postUpdate(deps, { actor }, opened.id, { state: 'identified', message: 'Found it.', statuses: { production: 'red' }, modes: { web: 'read_only' } });

    expect(done.value.incident.state).toBe('identified');
    const timelineReads = log.statements.filter((s) => s === 'select incident_updates');
    expect(timelineReads).toHaveLength(1);
    // The whole write, statement by statement. A change here is a change of the write path's
    // cost: make it on purpose and update this list.
    expect(log.statements).toEqual([
      'select environments', // the components, which the input is checked against
      'select environment_groups',
      'select incidents for update', // lock the incident
      'select incident_updates', // its timeline, read once
      'insert incident_updates',
      'update incidents', // derived state, start, close
      'insert audit_log',
      'raw select pg_advisory_xact_lock(7460302)', // mode bookkeeping takes turns
      'raw select c.*', // the latest mode change of each role
      'select incidents', // other open incidents (none here; each would add one read of all their timelines)
      'select mode_overrides',
      'insert mode_changes', // web went read-only
      'insert outbox_notices', // what subscribers are told: one row per notice, whatever their number
      'raw select pg_notify(',
    ]);
    expect(log.statements).toHaveLength(14);
  });

  it('emits what happened: the update, the state and status changes, and the mode change it caused', async () => {
    const { seed, deps, notified } = counted();
    const { actor } = await seed.token(['incidents:write'], 'events');
    const opened = await seed.incident(actor, { title: 'Events', message: 'Looking.', statuses: { production: 'yellow' } });
    const before = notified();
    const done = await incidents.postUpdate(deps, { actor }, opened.id, { state: 'identified', message: 'Found it.', statuses: { production: 'red' }, modes: { worker: 'maintenance' } });
    expect(done.events.map((e) => e.name)).toEqual(['incident.updated', 'incident.state_changed', 'environment.status_changed', 'mode.changed']);
    expect(done.events).toContainEqual({ name: 'environment.status_changed', incident: opened.id, environment: 'production', from: 'yellow', to: 'red' });
    expect(done.events).toContainEqual(expect.objectContaining({ name: 'mode.changed', role: 'worker', from: 'full', to: 'maintenance' }));
    expect(notified() - before).toBe(1);
    // back to full for the next test's sake is not needed: each test reads only its own incident
    await incidents.postUpdate(deps, { actor }, opened.id, { state: 'resolved', message: 'Fixed.' });
  });

  it('writes nothing when it refuses: no update, no audit row, no notification', async () => {
    const { seed, deps, notified } = counted();
    const { actor } = await seed.token(['incidents:write'], 'refused');
    const opened = await seed.incident(actor, { title: 'Refused', message: 'Looking.' });
    await incidents.postUpdate(deps, { actor }, opened.id, { state: 'resolved', message: 'Fixed.' });
    const audit = async () => (await handle.db.selectFrom('audit_log').select('id').where('target', '=', `incident:${opened.id}`).execute()).length;
    const rows = await audit();
    const before = notified();
    const refused = incidents.postUpdate(deps, { actor }, opened.id, { state: 'no_such_state', message: 'x' });
    await expect(refused).rejects.toMatchObject({ code: 'timeline.invalid_state', status: 400 });
    await expect(incidents.postUpdate(deps, { actor }, 999_999, { message: 'x' })).rejects.toMatchObject({ code: 'incident.not_found', id: 'not_found' });
    expect(await audit()).toBe(rows);
    expect(notified()).toBe(before);
  });

  it('answers a retry with the same Idempotency-Key from the first answer, running nothing again', async () => {
    const { seed, deps } = counted();
    const { actor } = await seed.token(['incidents:write'], 'retry');
    const opened = await seed.incident(actor, { title: 'Retried', message: 'Looking.' });
    const idempotency = { tokenId: actor.tokenId, key: 'k-retry', fingerprint: 'post update' };
    const first = await incidents.postUpdate(deps, { actor, idempotency }, opened.id, { message: 'Once.' });
    const again = await incidents.postUpdate(deps, { actor, idempotency }, opened.id, { message: 'Once.' });
    expect(again).toEqual({ value: first.value, replayed: true, events: [] });
    const other = incidents.postUpdate(deps, { actor, idempotency: { ...idempotency, fingerprint: 'something else' } }, opened.id, { message: 'Twice?' });
    await expect(other).rejects.toMatchObject({ code: 'request.idempotency_key_reused' });
    const updates = await handle.db.selectFrom('incident_updates').select('id').where('incident_id', '=', opened.id).execute();
    expect(updates).toHaveLength(2);
  });

  it('lists every problem of its input in one coded error, having read only the components it checks against', async () => {
    const { log, seed, deps } = counted();
    const { actor } = await seed.token(['incidents:write'], 'invalid');
    log.statements.length = 0;
    const error = await incidents.postUpdate(deps, { actor }, 1, { message: '', statuses: { nowhere: 'red' }, at: 'yesterday' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('incident.invalid_input');
    expect((error as AppError).problems.map((p) => p.path).sort()).toEqual(['at', 'message', 'statuses.nowhere']);
    expect(log.statements).toEqual(['select environments', 'select environment_groups']);
  });
});

describe('maintenance use cases', () => {
  it('running a maintenance now emits its start and the mode change, with the cause the history shows', async () => {
    const { seed, deps } = counted();
    const { actor } = await seed.token(['maintenance:write'], 'runner');
    const m = await seed.maintenance(actor, new Date().toISOString(), { title: 'Run now', message: 'Soon.', modes: { worker: 'read_only' }, scheduled_for: new Date(Date.now() + 86_400_000).toISOString() });
    const done = await maintenance.runNow(deps, { actor }, m.id, {});
    expect(done.value).toMatchObject({ id: m.id, status: 'in_progress', method: 'run' });
    expect(done.events.map((e) => e.name)).toEqual(expect.arrayContaining(['incident.updated', 'incident.state_changed', 'maintenance.started', 'mode.changed']));
    const [change] = await handle.db.selectFrom('mode_changes').selectAll().where('role', '=', 'worker').orderBy('id', 'desc').limit(1).execute();
    expect(change).toMatchObject({ to_mode: 'read_only', cause: `maintenance ${m.id} run by runner` });
    await maintenance.cancel(deps, { actor }, m.id, {});
  });

  it('a scheduler pass with nothing due emits nothing and notifies no one', async () => {
    const { deps, notified } = counted();
    const before = notified();
    const pass = await schedulerTick({ ...deps, clock: { now: () => new Date('2000-01-02T00:00:00Z') } });
    expect(pass).toEqual({ acted: true, started: [], completed: [] });
    expect(notified()).toBe(before);
  });
});

describe('token use cases', () => {
  it('creating a token is a private event: the public pages are not told to rebuild', async () => {
    const { seed, deps, notified } = counted();
    const before = notified();
    const made = await createToken(deps, { actor: (await seed.token(['admin'], 'maker')).actor }, { name: 'quiet', scopes: ['incidents:write', 'incidents:write'] });
    expect(made).toMatchObject({ name: 'quiet', scopes: ['incidents:write'], token: expect.stringMatching(/^hrd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/) });
    expect(made.signin_url).toMatch(/\/console\/signin\/[A-Za-z0-9_-]{43}$/);
    expect(notified()).toBe(before);
  });
});
