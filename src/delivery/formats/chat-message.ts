/**
 * What a chat message says about a notice, before Slack or Discord dress it: the same words and
 * colours in both, state first and a link, so a reader on a phone learns what is true now from
 * the first line and can tap through for the rest.
 */
import { isClosing } from '../../domain/timeline.ts';
import type { Impact, Mode, State, Status } from '../../domain/vocabulary.ts';
import type { Notice, NoticeIncident } from '../notice.ts';

/** What a test notice says before anything else, so nobody mistakes it for an outage. */
export const TEST_BANNER = 'Test message from Herald';
export const TEST_NOTE = 'nothing has happened; you can ignore it.';

export interface ChatMessage {
  readonly test: boolean;
  /** The message's colour, in Herald's status colours. */
  readonly tone: Status;
  /** Plain text: the incident's title, the component's name, the role whose mode changed. */
  readonly title: string;
  /** Plain text, what is true now: "Investigating", "Partial outage", "Read-only". */
  readonly state: string;
  /** Plain text after the state: "was operational", a maintenance's window. */
  readonly detail: string | null;
  /** Markdown: the update's message, or the cause of a mode change. */
  readonly message: string | null;
  readonly link: { readonly url: string; readonly label: string };
  /** Plain-text names, with what the incident says of each now, in page order. */
  readonly components: readonly { readonly name: string; readonly status: Status }[];
  /** When it happened (an update's time may be backdated). */
  readonly at: string;
  readonly pageName: string;
}

const STATE_LABEL: Readonly<Record<State, string>> = {
  investigating: 'Investigating',
  identified: 'Identified',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
  scheduled: 'Scheduled',
  in_progress: 'In progress',
  verifying: 'Verifying',
  completed: 'Completed',
  cancelled: 'Cancelled',
};

export const STATUS_LABEL: Readonly<Record<Status, string>> = {
  green: 'Operational',
  yellow: 'Degraded performance',
  orange: 'Partial outage',
  red: 'Major outage',
  blue: 'Under maintenance',
};

const MODE_LABEL: Readonly<Record<Mode, string>> = { full: 'Full service', read_only: 'Read-only', maintenance: 'Maintenance mode' };

/** Modes rise in severity full → read_only → maintenance; blue stays for planned maintenance. */
const MODE_TONE: Readonly<Record<Mode, Status>> = { full: 'green', read_only: 'yellow', maintenance: 'orange' };

/** An open incident's colour: red for critical, orange major, yellow minor (and none, still an incident). */
const IMPACT_TONE: Readonly<Record<Impact, Status>> = { critical: 'red', major: 'orange', minor: 'yellow', none: 'yellow' };

export function chatMessage(notice: Notice): ChatMessage {
  const common = { test: notice.test === true, pageName: notice.page.name };
  const { incident, update, component, mode } = notice;

  if (notice.type === 'component.status_changed') {
    if (!component) throw new Error('a component.status_changed notice carries its component');
    return {
      ...common,
      tone: component.new_status,
      title: component.name,
      state: STATUS_LABEL[component.new_status],
      detail: `was ${STATUS_LABEL[component.old_status].toLowerCase()}`,
      message: null,
      link: incident ? { url: incident.url, label: linkLabel(incident) } : { url: notice.page.url, label: 'View status page' },
      components: [],
      at: notice.occurred_at,
    };
  }

  if (notice.type === 'mode.changed') {
    if (!mode) throw new Error('a mode.changed notice carries its mode');
    return {
      ...common,
      tone: MODE_TONE[mode.to],
      title: `Mode change: ${mode.role}`,
      state: MODE_LABEL[mode.to],
      detail: `was ${MODE_LABEL[mode.from].toLowerCase()}`,
      message: mode.cause || null,
      link: { url: notice.page.url, label: 'View status page' },
      components: [],
      at: mode.at,
    };
  }

  if (!incident) throw new Error(`a ${notice.type} notice carries its incident`);
  const components = incident.components.map((c) => ({ name: c.name, status: c.status }));

  if (notice.type === 'postmortem.published') {
    return {
      ...common,
      tone: 'green',
      title: incident.title,
      state: 'Postmortem published',
      detail: null,
      message: null,
      link: { url: incident.url, label: 'Read the postmortem' },
      components,
      at: incident.postmortem_published_at ?? notice.occurred_at,
    };
  }

  const state = update?.state ?? incident.state;
  return {
    ...common,
    tone: isClosing(state) ? 'green' : incident.kind === 'maintenance' ? 'blue' : IMPACT_TONE[incident.impact],
    title: incident.title,
    state: STATE_LABEL[state],
    detail: incident.kind === 'maintenance' && !isClosing(state) ? maintenanceWindow(incident) : null,
    message: update?.message || null,
    link: { url: incident.url, label: linkLabel(incident) },
    components,
    at: update?.at ?? notice.occurred_at,
  };
}

const linkLabel = (incident: NoticeIncident) => (incident.kind === 'maintenance' ? 'View maintenance' : 'View incident');

/**
 * "2024-03-05 22:00–23:00 UTC", or both dates when it spans midnight. In UTC with no locale, so
 * every retry and every runtime writes the same bytes.
 */
function maintenanceWindow(incident: NoticeIncident): string | null {
  if (!incident.scheduled_for) return null;
  const from = minuteUtc(incident.scheduled_for);
  if (!incident.scheduled_until) return `from ${from} UTC`;
  const until = minuteUtc(incident.scheduled_until);
  return from.slice(0, 10) === until.slice(0, 10) ? `${from}–${until.slice(11)} UTC` : `${from} – ${until} UTC`;
}

const minuteUtc = (iso: string) => new Date(iso).toISOString().slice(0, 16).replace('T', ' ');
