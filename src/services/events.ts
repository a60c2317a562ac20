import type { Impact, Mode, State, Status } from '../domain/vocabulary.ts';

/**
 * What happened in a write, emitted by the use case inside its transaction (Work.emit). The unit
 * of work turns public events into the change notification (NOTIFY and the snapshot) and into the
 * outbox's notices (delivery/notices-of.ts), in the same transaction.
 */
export type DomainEvent =
  | { readonly name: 'incident.opened'; readonly incident: number; readonly kind: 'incident' | 'maintenance'; readonly title: string }
  | { readonly name: 'incident.updated'; readonly incident: number; readonly update: number; readonly state: State }
  | { readonly name: 'incident.state_changed'; readonly incident: number; readonly from: State; readonly to: State }
  | { readonly name: 'incident.resolved'; readonly incident: number }
  | { readonly name: 'incident.retitled'; readonly incident: number; readonly title: string }
  | { readonly name: 'incident.impact_set'; readonly incident: number; readonly impact: Impact | null }
  | { readonly name: 'environment.status_changed'; readonly incident: number; readonly environment: string; readonly from: Status; readonly to: Status }
  | { readonly name: 'update.hidden'; readonly incident: number; readonly update: number }
  | { readonly name: 'postmortem.saved'; readonly incident: number }
  | { readonly name: 'postmortem.published'; readonly incident: number }
  | { readonly name: 'maintenance.scheduled'; readonly incident: number; readonly scheduled_for: string }
  | { readonly name: 'maintenance.rescheduled'; readonly incident: number; readonly scheduled_for: string | null }
  | { readonly name: 'maintenance.started'; readonly incident: number }
  | { readonly name: 'maintenance.completed'; readonly incident: number }
  | { readonly name: 'maintenance.cancelled'; readonly incident: number }
  | { readonly name: 'window.set'; readonly day: number; readonly minute: number; readonly duration_minutes: number }
  | { readonly name: 'override.set'; readonly role: string; readonly mode: Mode }
  | { readonly name: 'override.cleared'; readonly role: string }
  | { readonly name: 'mode.changed'; readonly role: string; readonly from: Mode; readonly to: Mode; readonly at: string }
  | { readonly name: 'component.created'; readonly component: string }
  | { readonly name: 'component.updated'; readonly component: string }
  // was_retired, not retired: `component.retired` is the 409 error code, and the docs' tables are keyed by name
  | { readonly name: 'component.was_retired'; readonly component: string }
  | { readonly name: 'component.restored'; readonly component: string }
  | { readonly name: 'group.created'; readonly group: string }
  | { readonly name: 'group.updated'; readonly group: string }
  | { readonly name: 'group.was_retired'; readonly group: string }
  | { readonly name: 'group.restored'; readonly group: string }
  | { readonly name: 'token.created'; readonly token: number }
  | { readonly name: 'token.revoked'; readonly token: number }
  | { readonly name: 'console.signed_in'; readonly session: number; readonly token: number }
  | { readonly name: 'console.signed_out'; readonly session: number }
  | { readonly name: 'console.link_created'; readonly token: number }
  | { readonly name: 'setup.completed'; readonly token: number }
  | { readonly name: 'webhook.created'; readonly webhook: number }
  | { readonly name: 'webhook.updated'; readonly webhook: number }
  | { readonly name: 'webhook.secret_rotated'; readonly webhook: number }
  | { readonly name: 'webhook.disabled'; readonly webhook: number }
  | { readonly name: 'webhook.enabled'; readonly webhook: number }
  | { readonly name: 'webhook.removed'; readonly webhook: number }
  | { readonly name: 'webhook.tested'; readonly webhook: number };

export type EventName = DomainEvent['name'];

/**
 * Every event, and whether it changes what the public sees (the status page, feeds, the API's
 * reads, gates). A write whose events are all private sends no change notification.
 */
export const EVENTS: { readonly [N in EventName]: { readonly public: boolean; readonly meaning: string } } = {
  'incident.opened': { public: true, meaning: 'an incident was opened, or a maintenance announced, with its first update' },
  'incident.updated': { public: true, meaning: 'an update was posted to a timeline' },
  'incident.state_changed': { public: true, meaning: 'the state the timeline derives changed (e.g. investigating → identified)' },
  'incident.resolved': { public: true, meaning: 'an incident reached resolved' },
  'incident.retitled': { public: true, meaning: 'the title was edited' },
  'incident.impact_set': { public: true, meaning: "a commander set the incident's impact (null: derived from its statuses again)" },
  'environment.status_changed': { public: true, meaning: "what an incident says of one environment's status changed" },
  'update.hidden': { public: true, meaning: 'a wrong update was hidden from the timeline' },
  'postmortem.saved': { public: true, meaning: 'the postmortem text was saved (public if already published)' },
  'postmortem.published': { public: true, meaning: 'the postmortem was published' },
  'maintenance.scheduled': { public: true, meaning: 'a maintenance was announced' },
  'maintenance.rescheduled': { public: true, meaning: "a maintenance's plan changed" },
  'maintenance.started': { public: true, meaning: 'a maintenance went in progress (run, or started by the scheduler)' },
  'maintenance.completed': { public: true, meaning: 'a maintenance completed' },
  'maintenance.cancelled': { public: true, meaning: 'a maintenance was cancelled or stopped' },
  'window.set': { public: true, meaning: 'the weekly maintenance window was set' },
  'override.set': { public: true, meaning: "an operator set a role's manual override" },
  'override.cleared': { public: true, meaning: "an operator cleared a role's manual override" },
  'mode.changed': { public: true, meaning: "a role's effective mode changed (recorded by every write that causes it)" },
  'component.created': { public: true, meaning: 'a component was added' },
  'component.updated': { public: true, meaning: 'a component was renamed, described, moved, regrouped or its flags or start date changed' },
  'component.was_retired': { public: true, meaning: 'a component was retired (its history stays)' },
  'component.restored': { public: true, meaning: 'a retired component was restored' },
  'group.created': { public: true, meaning: 'a component group was added' },
  'group.updated': { public: true, meaning: 'a group was renamed, described or moved' },
  'group.was_retired': { public: true, meaning: 'an empty group was retired' },
  'group.restored': { public: true, meaning: 'a retired group was restored' },
  'token.created': { public: false, meaning: 'an API token was created' },
  'token.revoked': { public: false, meaning: 'an API token was revoked (its console sessions end with it)' },
  'console.signed_in': { public: false, meaning: 'a console session started' },
  'console.signed_out': { public: false, meaning: 'a console session ended' },
  'console.link_created': { public: false, meaning: 'a one-time console sign-in link was made' },
  'setup.completed': { public: false, meaning: 'the first-run setup link made the first admin token' },
  'webhook.created': { public: false, meaning: 'a webhook subscription was added' },
  'webhook.updated': { public: false, meaning: "a webhook subscription's URL, format, events, components or description changed" },
  'webhook.secret_rotated': { public: false, meaning: "a webhook subscription's signing secret was replaced (the old one signs on for the overlap)" },
  'webhook.disabled': { public: false, meaning: 'a webhook subscription was disabled by hand (the dispatcher disables one after a day of failures)' },
  'webhook.enabled': { public: false, meaning: 'a webhook subscription was enabled again; what is still due is sent' },
  'webhook.removed': { public: false, meaning: 'a webhook subscription was removed (its log stays)' },
  'webhook.tested': { public: false, meaning: 'a test message was queued for a webhook subscription' },
};

export const isPublic = (e: DomainEvent) => EVENTS[e.name].public;

/** The words a mode change's `cause` gets when the use case names none: what happened, and who did it. */
export function causeOf(events: readonly DomainEvent[], actorName: string): string {
  const first = events.find((e) => e.name !== 'mode.changed' && e.name !== 'environment.status_changed');
  if (!first) return `write by ${actorName}`;
  const subject = 'incident' in first ? ` ${first.incident}` : 'role' in first ? ` on ${first.role}` : '';
  return `${first.name}${subject} by ${actorName}`;
}
