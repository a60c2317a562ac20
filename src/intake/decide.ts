import type { Mode, Status } from '../domain/vocabulary.ts';
import type { AlertRule, Matcher, ReceivedAlert, ReceivedNotification } from './alert.ts';
import { messageFor, titleFor, type WordedAlert } from './wording.ts';

/**
 * What one alert notification does to the timeline, under one rule: open an incident, post an
 * update, post a recovery, or nothing. Pure: the caller reads the group's state, calls this, and
 * writes the decision and the new `known` in one transaction.
 *
 * The commander stays in charge: alerts never resolve an incident a human posted to, and never
 * reopen one a human resolved before the rule's quiet period has passed.
 */

/** What Herald remembers of one alert of a group, by fingerprint. */
export interface KnownAlert {
  readonly status: 'firing' | 'resolved';
  readonly startsAt: Date;
  /**
   * When it resolved; null while firing, and for an alert that left the group without a
   * resolution (silenced, inhibited, expired): resolved, time unknown.
   */
  readonly endsAt: Date | null;
  /** The component the rule placed it on: a recovery sets it back to green. */
  readonly component: string;
}

export interface GroupState {
  /** The incident this rule's group has open, if any, with what the decision needs of it. */
  readonly incident: {
    readonly id: number;
    readonly state: string;
    readonly humanPosted: boolean;
    readonly resolvedAt: Date | null;
    readonly resolvedByHuman: boolean;
  } | null;
  /** The alerts already seen for this group, by fingerprint: last known status and times. */
  readonly known: ReadonlyMap<string, KnownAlert>;
}

/**
 * Every `at` is where the alerts put the change, never after `now`. An update's or a recovery's
 * `at` may still be before the incident's last update (alerts arrive late): the caller clamps it
 * to no earlier than that, as the timeline is ordered by `at`.
 */
export type Decision =
  /** The reason is for the intake log: 'no new information', 'stale: older than what is known', … */
  | { readonly kind: 'ignore'; readonly reason: string }
  /** A new incident, investigating; never starting before the group's previous one was resolved. */
  | {
      readonly kind: 'open';
      readonly title: string;
      readonly message: string;
      readonly at: Date;
      readonly statuses: Record<string, Status>;
      readonly modes: Record<string, Mode>;
      /** The fingerprints now firing, which the incident is about. */
      readonly alerts: readonly string[];
    }
  | {
      readonly kind: 'update';
      readonly incidentId: number;
      readonly message: string;
      readonly at: Date;
      readonly statuses: Record<string, Status>;
      /** The rule's modes again when the alerts fire again after a recovery set them to full; else none. */
      readonly modes: Record<string, Mode>;
      /** The fingerprints this update announces: the newly firing ones. */
      readonly alerts: readonly string[];
    }
  | {
      readonly kind: 'recover';
      readonly incidentId: number;
      readonly message: string;
      readonly at: Date;
      readonly statuses: Record<string, Status>;
      readonly modes: Record<string, Mode>;
      /** Resolve the incident too: the rule says so and no human posted to it. */
      readonly resolve: boolean;
    };

export type Matches = (matchers: readonly Matcher[], labels: Readonly<Record<string, string>>) => boolean;

export interface DecideInput {
  readonly rule: AlertRule;
  readonly notification: ReceivedNotification;
  readonly state: GroupState;
  readonly now: Date;
  /** matchers.ts's `matches`, passed in. */
  readonly matches: Matches;
  /** The live components' slugs: an alert naming another is set aside. */
  readonly components: readonly string[];
}

export interface Outcome {
  readonly decision: Decision;
  /** The group's known alerts after this notification, to store whatever the decision. */
  readonly known: Map<string, KnownAlert>;
  /** Alerts set aside and why, for the intake log (not for the public timeline). */
  readonly notes: readonly string[];
}

export function decide({ rule, notification, state, now, matches, components }: DecideInput): Outcome {
  const notes: string[] = [];
  const known = new Map(state.known);
  const ignore = (reason: string): Outcome => ({ decision: { kind: 'ignore', reason }, known, notes });

  const counted = notification.alerts.filter((a) => matches(rule.matchers, a.labels));
  if (counted.length === 0) return ignore('no alert matches the rule');
  const live = new Set(components);
  const from = rule.component;
  if ('fixed' in from && !live.has(from.fixed)) return ignore(`the rule's component "${from.fixed}" is not on the page`);
  const placed = 'fixed' in from ? counted.map((alert) => ({ alert, component: from.fixed })) : place(counted, from, live, notes);
  if (placed.length === 0) return ignore(`no alert names a live component: ${notes.join('; ')}`);

  // Oldest first, so that of two reports of one fingerprint the later wins.
  const current = new Map<string, WordedAlert>();
  for (const worded of [...placed].sort((a, b) => a.alert.startsAt.getTime() - b.alert.startsAt.getTime())) {
    const { fingerprint } = worded.alert;
    const next = merged(known.get(fingerprint), worded);
    if (next === null) {
      notes.push(`${describe(worded.alert)} is older than what is known of it: set aside`);
      continue;
    }
    known.set(fingerprint, next);
    current.set(fingerprint, worded);
  }
  if (current.size === 0) return ignore('stale: older than what is known');

  const wasFiring = (fingerprint: string) => state.known.get(fingerprint)?.status === 'firing';
  const isFiring = (fingerprint: string) => known.get(fingerprint)?.status === 'firing';
  const firing = [...current.values()].filter((w) => isFiring(w.alert.fingerprint));
  const started = firing.filter((w) => !wasFiring(w.alert.fingerprint));
  const ended = [...current.values()].filter((w) => !isFiring(w.alert.fingerprint) && wasFiring(w.alert.fingerprint));
  /**
   * A notification that changes the timeline is taken as the whole group, as Alertmanager sends
   * it: an alert it leaves out has left the group unresolved. One that changes nothing may be a
   * late retry of an older notification, so it is not trusted to say what is missing.
   */
  const takeAsWholeGroup = () => {
    if (notification.truncatedAlerts > 0) return;
    const present = new Set(notification.alerts.map((a) => a.fingerprint));
    for (const [fingerprint, alert] of known) {
      if (alert.status === 'firing' && !present.has(fingerprint)) known.set(fingerprint, { ...alert, status: 'resolved', endsAt: null });
    }
  };
  const decided = (decision: Decision): Outcome => ({ decision, known, notes });

  const { incident } = state;
  if (incident !== null && incident.state !== 'resolved') {
    if (started.length > 0) {
      takeAsWholeGroup();
      const again = ![...state.known.values()].some((k) => k.status === 'firing');
      return decided({
        kind: 'update',
        incidentId: incident.id,
        message: messageFor(again ? 'again' : 'added', rule.templates.added, started),
        at: earliest(latest(...started.map((w) => w.alert.startsAt)), now),
        statuses: statusesOf(started, rule.status),
        modes: again ? { ...rule.modes } : {},
        alerts: started.map((w) => w.alert.fingerprint),
      });
    }
    if (firing.length === 0 && ended.length > 0 && notification.truncatedAlerts > 0) {
      return ignore(`the notification left ${count(notification.truncatedAlerts, 'alert')} out: the recovery waits for one that lists the whole group`);
    }
    if (firing.length === 0 && ended.length > 0) {
      takeAsWholeGroup();
      const resolve = rule.autoResolve && !incident.humanPosted;
      return decided({
        kind: 'recover',
        incidentId: incident.id,
        message: messageFor(resolve ? 'resolving' : 'recovered', rule.templates.recovered, ended),
        at: earliest(latest(...ended.map((w) => w.alert.endsAt ?? now)), now),
        // Every component the group's alerts were placed on, those resolved in earlier notifications too.
        statuses: Object.fromEntries([...known.values()].map((k) => [k.component, 'green' as const])),
        modes: Object.fromEntries(Object.keys(rule.modes).map((role) => [role, 'full' as const])),
        resolve,
      });
    }
    if (ended.length > 0) return ignore(`${count(ended.length, 'alert')} resolved, ${firing.length} still firing: the recovery waits for all`);
    return ignore('no new information');
  }

  if (firing.length === 0) return ignore('nothing firing and no open incident');
  if (incident?.resolvedByHuman && incident.resolvedAt !== null) {
    const quietUntil = new Date(incident.resolvedAt.getTime() + rule.quietPeriodMinutes * 60_000);
    if (now < quietUntil) {
      return ignore(
        `a commander resolved incident ${incident.id} at ${incident.resolvedAt.toISOString()}; ` +
          `alerts open a new incident only after the ${rule.quietPeriodMinutes}-minute quiet period, from ${quietUntil.toISOString()}`,
      );
    }
  }
  // The earliest alert may have fired before the last incident was resolved: the new incident
  // starts no earlier, so that the group's incidents do not overlap.
  const since = earliest(...firing.map((w) => w.alert.startsAt));
  takeAsWholeGroup();
  return decided({
    kind: 'open',
    title: titleFor(rule.templates.title, firing, rule.name),
    message: messageFor('opened', rule.templates.opened, firing),
    at: earliest(latest(since, incident?.resolvedAt ?? since), now),
    statuses: statusesOf(firing, rule.status),
    modes: { ...rule.modes },
    alerts: firing.map((w) => w.alert.fingerprint),
  });
}

/** The counted alerts with their component; the others are noted and set aside. */
function place(alerts: readonly ReceivedAlert[], from: { readonly label: string }, live: ReadonlySet<string>, notes: string[]): WordedAlert[] {
  const placed: WordedAlert[] = [];
  for (const alert of alerts) {
    const component = Object.hasOwn(alert.labels, from.label) ? alert.labels[from.label] : undefined;
    if (component && live.has(component)) placed.push({ alert, component });
    else if (component) notes.push(`${describe(alert)} names component "${component}", which is not on the page`);
    else notes.push(`${describe(alert)} has no label "${from.label}" to name its component`);
  }
  return placed;
}

/**
 * What is known of an alert after this report of it, or null when the report is stale: a
 * resolution older than a re-fire we know, or a firing no newer than a resolution we know.
 */
function merged(known: KnownAlert | undefined, { alert, component }: WordedAlert): KnownAlert | null {
  const next: KnownAlert = {
    status: alert.status,
    startsAt: alert.startsAt,
    endsAt: alert.status === 'resolved' ? alert.endsAt : null,
    component,
  };
  if (known === undefined) return next;
  const startsBefore = alert.startsAt < known.startsAt;
  if (alert.status === 'firing') {
    // A firing newer than the firing we know: it resolved in between, unseen; still firing.
    if (known.status === 'firing' || known.endsAt === null) return startsBefore ? null : next;
    return alert.startsAt <= known.endsAt ? null : next;
  }
  const endsAt = alert.endsAt ?? alert.startsAt;
  if (known.status === 'firing') return endsAt < known.startsAt ? null : next;
  if (known.endsAt === null) return startsBefore ? null : next;
  return endsAt < known.endsAt ? null : next;
}

function statusesOf(alerts: readonly WordedAlert[], status: Status): Record<string, Status> {
  return Object.fromEntries(alerts.map((w) => [w.component, status]));
}

function describe(alert: ReceivedAlert): string {
  const name = alert.labels.alertname;
  return `alert ${alert.fingerprint}${name ? ` (${name})` : ''}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function earliest(...times: readonly Date[]): Date {
  return new Date(Math.min(...times.map((t) => t.getTime())));
}

function latest(...times: readonly Date[]): Date {
  return new Date(Math.max(...times.map((t) => t.getTime())));
}
