import type { Impact, Kind, Mode, State, Status } from '../domain/vocabulary.ts';

/**
 * What a subscriber can ask to be told. One commander's post is one notice of the incident kind
 * (opened, updated or resolved; scheduled, started, completed or cancelled), plus one
 * `component.status_changed` per component whose status it changed, and one `mode.changed` per
 * role whose mode it changed.
 */
export const WEBHOOK_EVENTS = [
  'incident.opened',
  'incident.updated',
  'incident.resolved',
  'component.status_changed',
  'mode.changed',
  'maintenance.scheduled',
  'maintenance.started',
  'maintenance.completed',
  'maintenance.cancelled',
  'postmortem.published',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** How a subscription's messages are written (see src/delivery/formats.ts). */
export const WEBHOOK_FORMATS = ['herald', 'statuspage', 'slack', 'discord'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** The version of Herald's own payload (`format: herald`); bumped on a breaking change. */
export const HERALD_PAYLOAD_VERSION = 1;

export interface NoticeComponent {
  readonly slug: string;
  readonly name: string;
  readonly status: Status;
}

export interface NoticeIncident {
  readonly id: number;
  readonly kind: Kind;
  readonly title: string;
  readonly state: State;
  /** As set by a commander, or derived from the worst status declared. */
  readonly impact: Impact;
  /** Absolute URL of the incident's page. */
  readonly url: string;
  readonly started_at: string;
  readonly resolved_at: string | null;
  readonly updated_at: string;
  readonly scheduled_for: string | null;
  readonly scheduled_until: string | null;
  /** The components the incident names, with what it says of each now, in page order. */
  readonly components: readonly NoticeComponent[];
  /** Set once the postmortem is published. */
  readonly postmortem_published_at: string | null;
}

export interface NoticeUpdate {
  readonly id: number;
  readonly state: State;
  /** Markdown, as the commander wrote it. */
  readonly message: string;
  /** When it happened (may be backdated). */
  readonly at: string;
  readonly author: string;
}

/**
 * What one write tells subscribers, frozen in the write's transaction and rendered per format
 * when sent, so every retry sends the same bytes.
 */
export interface Notice {
  readonly type: WebhookEvent;
  readonly occurred_at: string;
  /** `status`: the page's top-level status right after the write, as Statuspage's API v2 says it. */
  readonly page: { readonly id: string; readonly name: string; readonly url: string; readonly status: { readonly indicator: 'none' | 'minor' | 'major' | 'critical' | 'maintenance'; readonly description: string } };
  /** incident.*, maintenance.*, postmortem.published, and the incident behind a component.status_changed. */
  readonly incident?: NoticeIncident | undefined;
  /** The update this write posted (incident.* and maintenance.*). */
  readonly update?: NoticeUpdate | undefined;
  /** component.status_changed. */
  readonly component?: { readonly slug: string; readonly name: string; readonly old_status: Status; readonly new_status: Status } | undefined;
  /** mode.changed. */
  readonly mode?: { readonly role: string; readonly from: Mode; readonly to: Mode; readonly at: string; readonly cause: string } | undefined;
  /** True for "send a test event": receivers may ignore it. */
  readonly test?: boolean | undefined;
}
