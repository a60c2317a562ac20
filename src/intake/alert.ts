import type { Mode, Status } from '../domain/vocabulary.ts';

/**
 * Alert intake (issue 17), the shared vocabulary: what Alertmanager (webhook payload version 4)
 * and Grafana's webhook contact point send, once read into one shape, and what a rule says to do
 * with it. Pure types: the parsing lives in payloads.ts, the matching in matchers.ts, the
 * decisions in decide.ts.
 */

export type AlertSource = 'alertmanager' | 'grafana';

/** One alert of a notification, as both sources describe it. */
export interface ReceivedAlert {
  /** Alertmanager's and Grafana's fingerprint: the alert's identity across notifications. */
  readonly fingerprint: string;
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: Date;
  /** null while firing (both sources send the zero time 0001-01-01T00:00:00Z then). */
  readonly endsAt: Date | null;
  readonly generatorURL: string | null;
}

/** One notification: a group of alerts, as Alertmanager groups them (Grafana the same way). */
export interface ReceivedNotification {
  readonly source: AlertSource;
  /** Alertmanager's groupKey (Grafana's too): identifies the group across notifications. */
  readonly groupKey: string;
  readonly status: 'firing' | 'resolved';
  readonly receiver: string;
  readonly groupLabels: Readonly<Record<string, string>>;
  readonly commonLabels: Readonly<Record<string, string>>;
  readonly commonAnnotations: Readonly<Record<string, string>>;
  readonly externalURL: string | null;
  readonly alerts: readonly ReceivedAlert[];
  /**
   * Alerts the sender left out (Alertmanager's and Grafana's max_alerts): when not 0 the list is
   * not the whole group, so nothing may be concluded from an alert missing from it.
   */
  readonly truncatedAlerts: number;
}

/** A parsed label matcher, as Alertmanager writes them: `severity=~"critical|page"`. */
export interface Matcher {
  readonly name: string;
  readonly type: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

/** Where a rule takes the component an alert concerns from. */
export type ComponentFrom = { readonly label: string } | { readonly fixed: string };

/** What a rule makes of the alerts it matches. */
export interface AlertRule {
  readonly id: number;
  readonly name: string;
  /** All must match an alert's labels (an empty list matches every alert). */
  readonly matchers: readonly Matcher[];
  readonly component: ComponentFrom;
  /** The status a firing alert implies for its component (default red). */
  readonly status: Status;
  /** Modes per role while firing; none unless the rule says so. */
  readonly modes: Readonly<Record<string, Mode>>;
  /** Resolve the incident when every alert of the group is resolved, if no human posted to it. */
  readonly autoResolve: boolean;
  /** After a commander resolved the incident, a re-fire opens a new one only after this long. */
  readonly quietPeriodMinutes: number;
  /** Templates over labels and annotations (see decide.ts); null: the default wording. */
  readonly templates: { readonly title: string | null; readonly opened: string | null; readonly added: string | null; readonly recovered: string | null };
}
