/**
 * An environment's colour: green operational, yellow degraded performance, orange partial outage
 * (broken for some), red major outage, blue under maintenance. Severity rises left to right
 * except blue, which ranks below yellow.
 */
export const STATUSES = ['green', 'yellow', 'orange', 'red', 'blue'] as const;
export type Status = (typeof STATUSES)[number];

/** What a role may do. `maintenance` > `read_only` > `full`. */
export const MODES = ['full', 'read_only', 'maintenance'] as const;
export type Mode = (typeof MODES)[number];

/** How bad an incident is, as Statuspage says it: derived from the worst status it declared unless a commander sets it. */
export const IMPACTS = ['none', 'minor', 'major', 'critical'] as const;
export type Impact = (typeof IMPACTS)[number];

export const INCIDENT_STATES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export const MAINTENANCE_STATES = ['scheduled', 'in_progress', 'verifying', 'completed', 'cancelled'] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];
export type MaintenanceState = (typeof MAINTENANCE_STATES)[number];
export type Kind = 'incident' | 'maintenance';
/** Any state of either kind's timeline. */
export type State = IncidentState | MaintenanceState;

/** The worst status wins when several incidents speak for one environment. */
const STATUS_SEVERITY: Record<Status, number> = { green: 0, blue: 1, yellow: 2, orange: 3, red: 4 };
const MODE_SEVERITY: Record<Mode, number> = { full: 0, read_only: 1, maintenance: 2 };

/** Is `s` one of `kind`'s states? */
export const isStateOf = (kind: Kind, s: string): s is State => (statesOf(kind) as readonly string[]).includes(s);

export function worstStatus(statuses: Iterable<Status>): Status {
  let worst: Status = 'green';
  for (const s of statuses) if (STATUS_SEVERITY[s] > STATUS_SEVERITY[worst]) worst = s;
  return worst;
}

export function mostRestrictiveMode(modes: Iterable<Mode>): Mode {
  let worst: Mode = 'full';
  for (const m of modes) if (MODE_SEVERITY[m] > MODE_SEVERITY[worst]) worst = m;
  return worst;
}

export function statesOf(kind: Kind): readonly State[] {
  return kind === 'incident' ? INCIDENT_STATES : MAINTENANCE_STATES;
}
