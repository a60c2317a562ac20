import type { Kysely } from 'kysely';
import type { Database, IncidentRow, UpdateRow } from '../db/schema.ts';
import { recordAudit } from '../db/queries/audit.ts';
import * as q from '../db/queries/incidents.ts';
import { AppError, conflict, notFound } from '../errors.ts';
import { replay, stateProblems, type TimelineEntry } from '../domain/timeline.ts';
import { statesOf, type Mode, type Status } from '../domain/vocabulary.ts';
import { actorLabel, type Actor } from './deps.ts';

type Db = Kysely<Database>;

export interface UpdateInput {
  readonly state?: string | undefined;
  readonly message: string;
  readonly statuses?: Readonly<Record<string, Status>> | undefined;
  readonly modes?: Readonly<Record<string, Mode>> | undefined;
  readonly at?: Date | undefined;
}

export interface CreateIncidentInput extends UpdateInput {
  readonly title: string;
}

export function toEntry(u: UpdateRow): TimelineEntry {
  return {
    id: u.id,
    at: u.at,
    state: u.state,
    statuses: u.statuses as Record<string, Status>,
    modes: u.modes as Record<string, Mode>,
  };
}

/** Rewrites the columns an incident derives from its timeline (state, start, close, last change). */
async function rederive(db: Db, incident: IncidentRow, now: Date): Promise<IncidentRow> {
  const updates = await q.visibleUpdatesOf(db, [incident.id]);
  const r = replay(incident.kind, updates.map(toEntry), now);
  return q.updateIncident(db, incident.id, {
    state: r.state,
    started_at: r.startedAt,
    resolved_at: r.resolvedAt,
    updated_at: new Date(Math.max(r.lastUpdateAt.getTime(), incident.updated_at.getTime())),
  });
}

/** Writes one update row as the actor posted it now (for a time `at`, possibly earlier). */
function insertUpdateOf(db: Db, actor: Actor, now: Date, incidentId: number, at: Date, state: string, input: UpdateInput) {
  return q.insertUpdate(db, {
    incident_id: incidentId,
    at,
    created_at: now,
    state,
    message: input.message,
    statuses: input.statuses ?? {},
    modes: input.modes ?? {},
    author: actor.name,
  });
}

/** Opens an incident with its first update, in the caller's transaction. */
export async function createIncident(db: Db, actor: Actor, now: Date, input: CreateIncidentInput) {
  const at = input.at ?? now;
  const state = input.state ?? 'investigating';
  const incident = await q.insertIncident(db, {
    kind: 'incident',
    title: input.title,
    state,
    started_at: at,
    resolved_at: state === 'resolved' ? at : null,
    updated_at: at,
    created_at: now,
    created_by: actor.name,
    scheduled_for: null,
    scheduled_until: null,
    required_by: null,
    postmortem: null,
    postmortem_updated_at: null,
    postmortem_published_at: null,
  });
  const update = await insertUpdateOf(db, actor, now, incident.id, at, state, input);
  await recordAudit(db, { at: now, actor: actorLabel(actor), action: 'incident.create', target: `incident:${incident.id}`, after: { incident, update } });
  return { incident, update };
}

/**
 * Adds an update to an incident or maintenance. The incident row is locked first, so updates
 * posted at once to one incident apply one after another; the state is then recomputed from the
 * whole timeline in `at` order, which is what makes backdated updates land where they belong.
 */
export async function postUpdate(db: Db, actor: Actor, now: Date, incidentId: number, input: UpdateInput) {
  const incident = await q.lockIncident(db, incidentId);
  if (!incident) throw notFound(`Incident ${incidentId}`);
  const at = input.at ?? now;
  const existing = (await q.visibleUpdatesOf(db, [incidentId])).map(toEntry);
  const state = input.state ?? stateAt(existing, at);
  if (!statesOf(incident.kind).includes(state)) {
    throw new AppError('invalid_params', 'The update is not valid.', [
      { path: 'state', message: `must be one of ${statesOf(incident.kind).join(', ')}` },
    ]);
  }
  const candidate: TimelineEntry = { id: Number.MAX_SAFE_INTEGER, at, state, statuses: input.statuses ?? {}, modes: input.modes ?? {} };
  const problems = stateProblems(incident.kind, [...existing, candidate]);
  if (problems.length) throw conflict(`This update does not fit the ${incident.kind}'s timeline: ${problems.join('; ')}.`);
  const update = await insertUpdateOf(db, actor, now, incidentId, at, state, input);
  const after = await rederive(db, incident, now);
  await recordAudit(db, { at: now, actor: actorLabel(actor), action: 'update.create', target: `incident:${incidentId}`, after: { update, state: after.state } });
  return { incident: after, update };
}

/** The state in force at `at`: that of the last update at or before it (or the first update). */
function stateAt(entries: readonly TimelineEntry[], at: Date): string {
  let state = entries[0]?.state ?? 'investigating';
  for (const e of entries) if (e.at.getTime() <= at.getTime()) state = e.state;
  return state;
}

export async function editTitle(db: Db, actor: Actor, now: Date, incidentId: number, title: string) {
  const incident = await q.lockIncident(db, incidentId);
  if (!incident) throw notFound(`Incident ${incidentId}`);
  const after = await q.updateIncident(db, incidentId, { title, updated_at: now });
  await recordAudit(db, { at: now, actor: actorLabel(actor), action: 'incident.title', target: `incident:${incidentId}`, before: { title: incident.title }, after: { title } });
  return after;
}

/** Saves the postmortem text. A published postmortem stays published; the audit keeps the old text. */
export async function writePostmortem(db: Db, actor: Actor, now: Date, incidentId: number, markdown: string) {
  const incident = await q.lockIncident(db, incidentId);
  if (!incident) throw notFound(`Incident ${incidentId}`);
  const after = await q.updateIncident(db, incidentId, { postmortem: markdown, postmortem_updated_at: now });
  await recordAudit(db, { at: now, actor: actorLabel(actor), action: 'postmortem.write', target: `incident:${incidentId}`, before: { postmortem: incident.postmortem }, after: { postmortem: markdown } });
  return after;
}

/** Publishes the postmortem of a closed incident; publishing twice keeps the first date. */
export async function publishPostmortem(db: Db, actor: Actor, now: Date, incidentId: number) {
  const incident = await q.lockIncident(db, incidentId);
  if (!incident) throw notFound(`Incident ${incidentId}`);
  if (incident.postmortem === null) throw conflict(`Incident ${incidentId} has no postmortem to publish; write one first (PUT /api/v1/incidents/${incidentId}/postmortem).`);
  if (incident.resolved_at === null) throw conflict(`Incident ${incidentId} is still ${incident.state}; a postmortem is published once it is closed.`);
  if (incident.postmortem_published_at !== null) return incident;
  const after = await q.updateIncident(db, incidentId, { postmortem_published_at: now });
  await recordAudit(db, { at: now, actor: actorLabel(actor), action: 'postmortem.publish', target: `incident:${incidentId}`, after: { published_at: now } });
  return after;
}

/** Hides a wrong update from the timeline and its durations; the row and the reason stay. */
export async function hideUpdate(db: Db, actor: Actor, now: Date, incidentId: number, updateId: number, reason: string) {
  const incident = await q.lockIncident(db, incidentId);
  if (!incident) throw notFound(`Incident ${incidentId}`);
  const update = await q.findUpdate(db, incidentId, updateId);
  if (!update) throw notFound(`Update ${updateId} of incident ${incidentId}`);
  if (update.hidden_at !== null) throw conflict(`Update ${updateId} is already hidden.`);
  const visible = await q.visibleUpdatesOf(db, [incidentId]);
  if (visible.length === 1) throw conflict(`Update ${updateId} is the incident's only visible update; post a correcting update instead.`);
  const remaining = visible.filter((u) => u.id !== updateId).map(toEntry);
  const problems = stateProblems(incident.kind, remaining);
  if (problems.length) throw conflict(`Hiding this update would break the ${incident.kind}'s timeline: ${problems.join('; ')}.`);
  const hidden = await q.hideUpdate(db, updateId, now, reason);
  const after = await rederive(db, incident, now);
  await recordAudit(db, { at: now, actor: actorLabel(actor), action: 'update.hide', target: `incident:${incidentId}`, before: update, after: { hidden_at: now, reason } });
  return { incident: after, update: hidden };
}
