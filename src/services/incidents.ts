import type { IncidentRow, UpdateRow } from '../db/schema.ts';
import * as q from '../db/queries/incidents.ts';
import { AppError } from '../errors.ts';
import { replay, stateProblems, type Replay, type TimelineEntry } from '../domain/timeline.ts';
import { isStateOf, statesOf, type Mode, type State, type Status } from '../domain/vocabulary.ts';
import type { Deps } from './deps.ts';
import { incidentView, toEntry, type IncidentView, type UpdateView } from './read-model.ts';
import { writeSchemas } from './schemas.ts';
import { inTransaction, parseInput, type Command, type Work } from './unit-of-work.ts';

export interface UpdateInput {
  readonly state?: string | undefined;
  readonly message: string;
  readonly statuses?: Readonly<Record<string, Status>> | undefined;
  readonly modes?: Readonly<Record<string, Mode>> | undefined;
  readonly at?: Date | undefined;
}

export interface PostmortemView {
  readonly incident_id: number;
  readonly markdown: string | null;
  readonly updated_at: string | null;
  readonly published_at: string | null;
}

/** Timeline order: `at`, then insertion (as the database returns them). */
const inOrder = (a: UpdateRow, b: UpdateRow) => a.at.getTime() - b.at.getTime() || a.id - b.id;

/** The state in force at `at`: that of the last update at or before it (or the first update). */
function stateAt(entries: readonly TimelineEntry[], at: Date): State {
  let state: State = entries[0]?.state ?? 'investigating';
  for (const e of entries) if (e.at.getTime() <= at.getTime()) state = e.state;
  return state;
}

/** The events a timeline's change means: its state, each environment's status, and what closing it is called. */
function emitTimelineChanges(w: Work, row: IncidentRow, before: Replay | undefined, after: Replay): void {
  const id = row.id;
  if (before && before.state !== after.state) {
    w.emit({ name: 'incident.state_changed', incident: id, from: before.state, to: after.state });
    if (row.kind === 'incident' && after.state === 'resolved') w.emit({ name: 'incident.resolved', incident: id });
    if (row.kind === 'maintenance' && after.state === 'in_progress') w.emit({ name: 'maintenance.started', incident: id });
    if (row.kind === 'maintenance' && after.state === 'completed') w.emit({ name: 'maintenance.completed', incident: id });
    if (row.kind === 'maintenance' && after.state === 'cancelled') w.emit({ name: 'maintenance.cancelled', incident: id });
  }
  for (const environment of new Set([...Object.keys(before?.statuses ?? {}), ...Object.keys(after.statuses)])) {
    const from = before?.statuses[environment] ?? 'green';
    const to = after.statuses[environment] ?? 'green';
    if (from !== to) w.emit({ name: 'environment.status_changed', incident: id, environment, from, to });
  }
}

/** Locks an incident (or maintenance) for the rest of the transaction, or 404. */
export async function lockIncident(w: Work, id: number): Promise<IncidentRow> {
  const row = await q.lockIncident(w.db, id);
  if (!row) throw new AppError('incident.not_found', `Incident ${id} was not found.`);
  return row;
}

/**
 * Rewrites the columns an incident derives from its timeline (state, start, close, last change)
 * from the updates in hand, and tells the unit of work the incident's new view.
 */
async function rederive(w: Work, incident: IncidentRow, updates: readonly UpdateRow[], r: Replay): Promise<{ row: IncidentRow; view: IncidentView }> {
  const row = await q.updateIncident(w.db, incident.id, {
    state: r.state,
    started_at: r.startedAt,
    resolved_at: r.resolvedAt,
    updated_at: new Date(Math.max(r.lastUpdateAt.getTime(), incident.updated_at.getTime())),
  });
  const view = incidentView(w.config, row, updates, w.now);
  w.wrote(view);
  return { row, view };
}

/**
 * Adds an update to a locked incident or maintenance, in the caller's work. The state is
 * recomputed from the whole timeline in `at` order, which is what makes backdated updates land
 * where they belong; the timeline is read once.
 */
export async function appendUpdate(w: Work, incident: IncidentRow, input: UpdateInput) {
  const at = input.at ?? w.now;
  const existing = await q.visibleUpdatesOf(w.db, [incident.id]);
  const entries = existing.map(toEntry);
  const state = input.state ?? stateAt(entries, at);
  if (!isStateOf(incident.kind, state)) {
    throw new AppError('timeline.invalid_state', 'The update is not valid.', [{ path: 'state', message: `must be one of ${statesOf(incident.kind).join(', ')}` }]);
  }
  const candidate: TimelineEntry = { id: Number.MAX_SAFE_INTEGER, at, state, statuses: input.statuses ?? {}, modes: input.modes ?? {} };
  const problems = stateProblems(incident.kind, [...entries, candidate]);
  if (problems.length) throw new AppError('timeline.conflict', `This update does not fit the ${incident.kind}'s timeline: ${problems.join('; ')}.`);
  const update = await q.insertUpdate(w.db, {
    incident_id: incident.id,
    at,
    created_at: w.now,
    state,
    message: input.message,
    statuses: input.statuses ?? {},
    modes: input.modes ?? {},
    author: w.actor.name,
  });
  const updates = [...existing, update].sort(inOrder);
  const after = replay(incident.kind, updates.map(toEntry), w.now);
  const { row, view } = await rederive(w, incident, updates, after);
  await w.audit('update.create', `incident:${incident.id}`, { after: { update, state: row.state } });
  w.emit({ name: 'incident.updated', incident: incident.id, update: update.id, state });
  emitTimelineChanges(w, incident, existing.length ? replay(incident.kind, entries, w.now) : undefined, after);
  return { incident: row, update, view };
}

/** Inserts a new incident or maintenance with its first update, in the caller's work. */
export async function insertIncident(w: Work, values: Omit<Parameters<typeof q.insertIncident>[1], 'created_at' | 'created_by'>, first: Omit<Parameters<typeof q.insertUpdate>[1], 'incident_id' | 'created_at' | 'author'>) {
  const incident = await q.insertIncident(w.db, { ...values, created_at: w.now, created_by: w.actor.name });
  const update = await q.insertUpdate(w.db, { ...first, incident_id: incident.id, created_at: w.now, author: w.actor.name });
  const view = incidentView(w.config, incident, [update], w.now);
  w.wrote(view);
  w.emit({ name: 'incident.opened', incident: incident.id, kind: incident.kind, title: incident.title });
  emitTimelineChanges(w, incident, undefined, replay(incident.kind, [toEntry(update)], w.now));
  return { incident, update, view };
}

const updateOf = (view: IncidentView, id: number): UpdateView => view.updates.find((u) => u.id === id)!;

/** What opening an incident takes; `audit` adds to its audit row (the alert rule that opened it). */
export interface NewIncident {
  readonly title: string;
  readonly impact: IncidentRow['impact'];
  readonly state: State;
  readonly at: Date;
  readonly message: string;
  readonly statuses: Readonly<Record<string, Status>>;
  readonly modes: Readonly<Record<string, Mode>>;
  readonly audit?: Readonly<Record<string, unknown>>;
}

/** Opens an incident with its first update, in the caller's work, audited. */
export async function startIncident(w: Work, input: NewIncident) {
  const { at, state } = input;
  const opened = await insertIncident(
    w,
    {
      kind: 'incident',
      title: input.title,
      impact: input.impact,
      state,
      started_at: at,
      resolved_at: state === 'resolved' ? at : null,
      updated_at: at,
      scheduled_for: null,
      scheduled_until: null,
      required_by: null,
      postmortem: null,
      postmortem_updated_at: null,
      postmortem_published_at: null,
    },
    { at, state, message: input.message, statuses: input.statuses, modes: input.modes },
  );
  await w.audit('incident.create', `incident:${opened.incident.id}`, { after: { incident: opened.incident, update: opened.update, ...input.audit } });
  return opened;
}

/** Opens an incident with its first update. */
export async function openIncident(deps: Deps, command: Command, body: unknown) {
  const now = deps.clock.now();
  return inTransaction(deps, command, now, async (w) => {
    // In the transaction: the environments an update may name are the database's, as of now.
    const input = parseInput(writeSchemas(w.config, now).createIncident, body, 'incident.invalid_input');
    if (input.notify === false) w.silence();
    const { view } = await startIncident(w, {
      title: input.title,
      impact: input.impact ?? null,
      state: input.state,
      at: input.at ?? now,
      message: input.message,
      statuses: input.statuses ?? {},
      modes: input.modes ?? {},
    });
    return view;
  });
}

/**
 * Posts an update to an incident or maintenance. The incident row is locked first, so updates
 * posted at once to one incident apply one after another.
 */
export async function postUpdate(deps: Deps, command: Command, incidentId: number, body: unknown) {
  const now = deps.clock.now();
  return inTransaction(deps, command, now, async (w) => {
    const input = parseInput(writeSchemas(w.config, now).postUpdate, body, 'incident.invalid_input');
    if (input.notify === false) w.silence();
    const { update, view } = await appendUpdate(w, await lockIncident(w, incidentId), input);
    return { update: updateOf(view, update.id), incident: view };
  });
}

/** Edits an incident's title, or its impact (null: derived from its statuses again), or both. */
export async function editIncident(deps: Deps, command: Command, incidentId: number, body: unknown) {
  const now = deps.clock.now();
  const input = parseInput(writeSchemas(deps.config, now).editIncident, body, 'incident.invalid_input');
  return inTransaction(deps, command, now, async (w) => {
    const incident = await lockIncident(w, incidentId);
    const after = await q.updateIncident(w.db, incidentId, { ...input, updated_at: now });
    if (input.title !== undefined) {
      await w.audit('incident.title', `incident:${incidentId}`, { before: { title: incident.title }, after: { title: input.title } });
      w.emit({ name: 'incident.retitled', incident: incidentId, title: input.title });
    }
    if (input.impact !== undefined) {
      await w.audit('incident.impact', `incident:${incidentId}`, { before: { impact: incident.impact }, after: { impact: input.impact } });
      w.emit({ name: 'incident.impact_set', incident: incidentId, impact: input.impact });
    }
    const view = incidentView(deps.config, after, await q.visibleUpdatesOf(w.db, [incidentId]), now);
    w.wrote(view);
    return view;
  });
}

function postmortemView(row: IncidentRow): PostmortemView {
  return {
    incident_id: row.id,
    markdown: row.postmortem,
    updated_at: row.postmortem_updated_at?.toISOString() ?? null,
    published_at: row.postmortem_published_at?.toISOString() ?? null,
  };
}

/** Publishes the postmortem of a closed incident; publishing twice keeps the first date. */
async function publish(w: Work, incident: IncidentRow): Promise<IncidentRow> {
  const id = incident.id;
  if (incident.postmortem === null) throw new AppError('postmortem.missing', `Incident ${id} has no postmortem to publish; write one first (PUT /api/v1/incidents/${id}/postmortem).`);
  if (incident.resolved_at === null) throw new AppError('postmortem.incident_open', `Incident ${id} is still ${incident.state}; a postmortem is published once it is closed.`);
  if (incident.postmortem_published_at !== null) return incident;
  const after = await q.updateIncident(w.db, id, { postmortem_published_at: w.now });
  await w.audit('postmortem.publish', `incident:${id}`, { after: { published_at: w.now } });
  w.emit({ name: 'postmortem.published', incident: id });
  return after;
}

/**
 * Saves the postmortem text, and publishes it too when asked (the console's "Save and publish").
 * A published postmortem stays published; the audit keeps the old text.
 */
export async function savePostmortem(deps: Deps, command: Command, incidentId: number, body: unknown, options: { readonly publish?: boolean } = {}) {
  const now = deps.clock.now();
  const { markdown } = parseInput(writeSchemas(deps.config, now).postmortem, body, 'incident.invalid_input');
  return inTransaction(deps, command, now, async (w) => {
    const incident = await lockIncident(w, incidentId);
    let after = await q.updateIncident(w.db, incidentId, { postmortem: markdown, postmortem_updated_at: now });
    await w.audit('postmortem.write', `incident:${incidentId}`, { before: { postmortem: incident.postmortem }, after: { postmortem: markdown } });
    w.emit({ name: 'postmortem.saved', incident: incidentId });
    if (options.publish) after = await publish(w, after);
    return postmortemView(after);
  });
}

export async function publishPostmortem(deps: Deps, command: Command, incidentId: number, body: unknown = {}) {
  const now = deps.clock.now();
  parseInput(writeSchemas(deps.config, now).publishPostmortem, body, 'incident.invalid_input');
  return inTransaction(deps, command, now, async (w) => postmortemView(await publish(w, await lockIncident(w, incidentId))));
}

/** Hides a wrong update from the timeline and its durations; the row and the reason stay. */
export async function hideUpdate(deps: Deps, command: Command, incidentId: number, updateId: number, body: unknown) {
  const now = deps.clock.now();
  const { reason } = parseInput(writeSchemas(deps.config, now).hideUpdate, body, 'incident.invalid_input');
  return inTransaction(deps, command, now, async (w) => {
    const incident = await lockIncident(w, incidentId);
    const update = await q.findUpdate(w.db, incidentId, updateId);
    if (!update) throw new AppError('update.not_found', `Update ${updateId} of incident ${incidentId} was not found.`);
    if (update.hidden_at !== null) throw new AppError('update.already_hidden', `Update ${updateId} is already hidden.`);
    const visible = await q.visibleUpdatesOf(w.db, [incidentId]);
    if (visible.length === 1) throw new AppError('update.only_visible', `Update ${updateId} is the incident's only visible update; post a correcting update instead.`);
    const remaining = visible.filter((u) => u.id !== updateId);
    const problems = stateProblems(incident.kind, remaining.map(toEntry));
    if (problems.length) throw new AppError('timeline.conflict', `Hiding this update would break the ${incident.kind}'s timeline: ${problems.join('; ')}.`);
    await q.hideUpdate(w.db, updateId, now, reason);
    const after = replay(incident.kind, remaining.map(toEntry), now);
    const { view } = await rederive(w, incident, remaining, after);
    await w.audit('update.hide', `incident:${incidentId}`, { before: update, after: { hidden_at: now, reason } });
    w.emit({ name: 'update.hidden', incident: incidentId, update: updateId });
    emitTimelineChanges(w, incident, replay(incident.kind, visible.map(toEntry), now), after);
    return view;
  });
}
