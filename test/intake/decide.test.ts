import { describe, expect, it } from 'vitest';
import type { AlertRule, ReceivedAlert, ReceivedNotification } from '../../src/intake/alert.ts';
import { decide, type Decision, type GroupState, type KnownAlert, type Matches, type Outcome } from '../../src/intake/decide.ts';

/** A time on 2024-06-10 (UTC): at('10:05'). */
function at(hhmm: string): Date {
  return new Date(`2024-06-10T${hhmm}:00.000Z`);
}

function firing(fingerprint: string, startsAt: string, labels: Record<string, string> = {}): ReceivedAlert {
  return {
    fingerprint,
    status: 'firing',
    labels: { alertname: 'HighErrorRate', component: 'api', ...labels },
    annotations: { summary: `${fingerprint} is failing` },
    startsAt: at(startsAt),
    endsAt: null,
    generatorURL: null,
  };
}

function resolved(fingerprint: string, startsAt: string, endsAt: string, labels: Record<string, string> = {}): ReceivedAlert {
  return { ...firing(fingerprint, startsAt, labels), status: 'resolved', endsAt: at(endsAt) };
}

function notification(...alerts: ReceivedAlert[]): ReceivedNotification {
  return {
    source: 'alertmanager',
    groupKey: '{}:{alertname="HighErrorRate"}',
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'herald',
    groupLabels: { alertname: 'HighErrorRate' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: null,
    alerts,
    truncatedAlerts: 0,
  };
}

function rule(over: Partial<AlertRule> = {}): AlertRule {
  return {
    id: 1,
    name: 'Platform errors',
    matchers: [],
    component: { label: 'component' },
    status: 'red',
    modes: {},
    autoResolve: false,
    quietPeriodMinutes: 30,
    templates: { title: null, opened: null, added: null, recovered: null },
    ...over,
  };
}

/** A stand-in for matchers.ts: equality and inequality only. */
const matches: Matches = (matchers, labels) =>
  matchers.every((m) => (m.type === '=' ? labels[m.name] === m.value : m.type === '!=' ? labels[m.name] !== m.value : false));

const COMPONENTS = ['api', 'web', 'db'];

const NO_INCIDENT: GroupState['incident'] = null;
function openIncident(over: Partial<NonNullable<GroupState['incident']>> = {}): NonNullable<GroupState['incident']> {
  return { id: 7, state: 'investigating', humanPosted: false, resolvedAt: null, resolvedByHuman: false, ...over };
}

function known(...entries: [string, KnownAlert][]): Map<string, KnownAlert> {
  return new Map(entries);
}
const wasFiring = (startsAt: string, component = 'api'): KnownAlert => ({ status: 'firing', startsAt: at(startsAt), endsAt: null, component });
const wasResolved = (startsAt: string, endsAt: string, component = 'api'): KnownAlert => ({ status: 'resolved', startsAt: at(startsAt), endsAt: at(endsAt), component });

function run(input: { alerts: ReceivedAlert[]; incident?: GroupState['incident']; known?: ReadonlyMap<string, KnownAlert>; now?: string; rule?: AlertRule; truncatedAlerts?: number }): Outcome {
  return decide({
    rule: input.rule ?? rule(),
    notification: { ...notification(...input.alerts), truncatedAlerts: input.truncatedAlerts ?? 0 },
    state: { incident: input.incident ?? NO_INCIDENT, known: input.known ?? new Map() },
    now: at(input.now ?? '12:00'),
    matches,
    components: COMPONENTS,
  });
}

function as<K extends Decision['kind']>(decision: Decision, kind: K): Extract<Decision, { kind: K }> {
  expect(decision.kind).toBe(kind);
  return decision as Extract<Decision, { kind: K }>;
}

describe('opening', () => {
  it('a firing alert with no incident for its group opens one at its startsAt, its component at the rule status', () => {
    const { decision, known } = run({ alerts: [firing('a', '10:00')] });
    const open = as(decision, 'open');
    expect(open).toMatchObject({ title: 'HighErrorRate', at: at('10:00'), statuses: { api: 'red' }, modes: {}, alerts: ['a'] });
    expect(open.message).toBe(
      'Our automated systems have detected potential platform errors. We are investigating.\n\n- HighErrorRate (api): a is failing',
    );
    expect(known.get('a')).toEqual(wasFiring('10:00'));
  });

  it('opens at the earliest firing alert and names the component of each', () => {
    const { decision } = run({ alerts: [firing('b', '10:04', { component: 'web' }), firing('a', '10:01')] });
    expect(as(decision, 'open')).toMatchObject({ at: at('10:01'), statuses: { api: 'red', web: 'red' }, alerts: ['a', 'b'] });
  });

  it('declares the modes only of a rule that has them', () => {
    const { decision } = run({ alerts: [firing('a', '10:00')], rule: rule({ modes: { web: 'read_only' }, status: 'orange' }) });
    expect(as(decision, 'open')).toMatchObject({ statuses: { api: 'orange' }, modes: { web: 'read_only' } });
  });

  it("words the incident with the rule's templates", () => {
    const templates = { title: '{{ labels.alertname }} on {{ labels.component }}', opened: '{{ count }} alert: {{ annotations.summary }}', added: null, recovered: null };
    const { decision } = run({ alerts: [firing('a', '10:00')], rule: rule({ templates }) });
    expect(as(decision, 'open')).toMatchObject({ title: 'HighErrorRate on api', message: '1 alert: a is failing' });
  });

  it('never opens later than now, even for an alert whose clock runs ahead', () => {
    const { decision } = run({ alerts: [firing('a', '12:03')], now: '12:00' });
    expect(as(decision, 'open').at).toEqual(at('12:00'));
  });
});

describe('more alerts of the group', () => {
  it('post one update listing only the new alerts, at the newest one, their components at the rule status', () => {
    const { decision, known: after } = run({
      incident: openIncident(),
      known: known(['a', wasFiring('10:00')]),
      alerts: [firing('a', '10:00'), firing('b', '10:05', { component: 'web' }), firing('c', '10:03', { component: 'db' })],
    });
    const update = as(decision, 'update');
    expect(update).toMatchObject({ incidentId: 7, at: at('10:05'), statuses: { web: 'red', db: 'red' }, modes: {}, alerts: ['c', 'b'] });
    expect(update.message).toBe('Our automated systems see more:\n\n- HighErrorRate (db): c is failing\n- HighErrorRate (web): b is failing');
    expect([...after.keys()].sort()).toEqual(['a', 'b', 'c']);
  });

  it("use the rule's added template for the new alerts", () => {
    const templates = { title: null, opened: null, added: 'Also: {{ alerts }} ({{ count }} new)', recovered: null };
    const { decision } = run({ incident: openIncident(), known: known(['a', wasFiring('10:00')]), alerts: [firing('a', '10:00'), firing('b', '10:05', { component: 'web' })], rule: rule({ templates }) });
    expect(as(decision, 'update').message).toBe('Also: - HighErrorRate (web): b is failing (1 new)');
  });
});

describe('repeats and duplicates', () => {
  it("a repeat of the same alerts with the same statuses (Alertmanager's repeat_interval) is ignored", () => {
    const { decision } = run({ incident: openIncident(), known: known(['a', wasFiring('10:00')]), alerts: [firing('a', '10:00')] });
    expect(decision).toEqual({ kind: 'ignore', reason: 'no new information' });
  });

  it('a repeated resolution after the recovery was posted is ignored', () => {
    const { decision } = run({ incident: openIncident(), known: known(['a', wasResolved('10:00', '10:20')]), alerts: [resolved('a', '10:00', '10:20')] });
    expect(decision).toEqual({ kind: 'ignore', reason: 'no new information' });
  });

  it('one fingerprint reported twice in a notification counts once', () => {
    const { decision } = run({ alerts: [firing('a', '10:00'), firing('a', '10:00')] });
    const open = as(decision, 'open');
    expect(open.alerts).toEqual(['a']);
    expect(open.message.match(/a is failing/g)).toHaveLength(1);
  });
});

describe('recovery', () => {
  it('when the notification left alerts out (truncated), every listed one resolved is no recovery', () => {
    const { decision } = run({
      incident: openIncident(),
      known: known(['a', wasFiring('10:00')], ['b', wasFiring('10:02', 'web')]),
      alerts: [resolved('a', '10:00', '10:20')],
      truncatedAlerts: 1,
    });
    expect(decision).toEqual({ kind: 'ignore', reason: 'the notification left 1 alert out: the recovery waits for one that lists the whole group' });
  });

  it('when a truncated notification brings a new alert, the ones it does not list stay firing', () => {
    const { decision, known: after } = run({
      incident: openIncident(),
      known: known(['a', wasFiring('10:00')]),
      alerts: [firing('b', '10:05', { component: 'web' })],
      truncatedAlerts: 1,
    });
    expect(as(decision, 'update').alerts).toEqual(['b']);
    expect(after.get('a')?.status).toBe('firing');
  });

  it('when every alert of the group has resolved, sets their components green and the modes full, without resolving', () => {
    const { decision, known: after } = run({
      rule: rule({ modes: { web: 'read_only' } }),
      incident: openIncident(),
      known: known(['a', wasFiring('10:00')], ['b', wasFiring('10:02', 'web')]),
      alerts: [resolved('a', '10:00', '10:20'), resolved('b', '10:02', '10:25', { component: 'web' })],
    });
    expect(as(decision, 'recover')).toEqual({
      kind: 'recover',
      incidentId: 7,
      message: 'Our automated systems see recovery. A commander will confirm before this incident is resolved.',
      at: at('10:25'),
      statuses: { api: 'green', web: 'green' },
      modes: { web: 'full' },
      resolve: false,
    });
    expect(after.get('b')).toEqual(wasResolved('10:02', '10:25', 'web'));
  });

  it('with auto-resolve and no human post, resolves the incident', () => {
    const { decision } = run({ rule: rule({ autoResolve: true }), incident: openIncident(), known: known(['a', wasFiring('10:00')]), alerts: [resolved('a', '10:00', '10:20')] });
    expect(as(decision, 'recover')).toMatchObject({ resolve: true, message: 'Our automated systems see recovery; resolving.' });
  });

  it('with auto-resolve but a human posted to the incident, leaves the resolving to the commander', () => {
    const { decision } = run({
      rule: rule({ autoResolve: true }),
      incident: openIncident({ humanPosted: true }),
      known: known(['a', wasFiring('10:00')]),
      alerts: [resolved('a', '10:00', '10:20')],
    });
    expect(as(decision, 'recover')).toMatchObject({ resolve: false, message: 'Our automated systems see recovery. A commander will confirm before this incident is resolved.' });
  });

  it('also sets green the components of alerts that resolved in an earlier notification', () => {
    const first = run({ incident: openIncident(), known: known(['a', wasFiring('10:00')], ['b', wasFiring('10:01', 'web')]), alerts: [resolved('a', '10:00', '10:10'), firing('b', '10:01', { component: 'web' })] });
    const { decision } = run({ incident: openIncident(), known: first.known, alerts: [resolved('b', '10:01', '10:20', { component: 'web' })] });
    expect(as(decision, 'recover').statuses).toEqual({ api: 'green', web: 'green' });
  });

  it('posts nothing while some alerts of the group still fire', () => {
    const { decision } = run({ incident: openIncident(), known: known(['a', wasFiring('10:00')], ['b', wasFiring('10:01')]), alerts: [resolved('a', '10:00', '10:10'), firing('b', '10:01')] });
    expect(decision).toEqual({ kind: 'ignore', reason: '1 alert resolved, 1 still firing: the recovery waits for all' });
  });

  it('takes an alert that left the group unresolved (silenced) as resolved when the notification changes the timeline', () => {
    const { decision, known: after } = run({ incident: openIncident(), known: known(['a', wasFiring('10:00')], ['b', wasFiring('10:01', 'web')]), alerts: [resolved('a', '10:00', '10:10')] });
    expect(as(decision, 'recover').statuses).toEqual({ api: 'green', web: 'green' });
    expect(after.get('b')).toEqual({ status: 'resolved', startsAt: at('10:01'), endsAt: null, component: 'web' });
  });

  it('does not take a notification that changes nothing (perhaps a late retry) as saying which alerts left', () => {
    const { decision, known: after } = run({ incident: openIncident(), known: known(['a', wasFiring('10:00')], ['b', wasFiring('10:01')]), alerts: [firing('a', '10:00')] });
    expect(decision.kind).toBe('ignore');
    expect(after.get('b')).toEqual(wasFiring('10:01'));
  });
});

describe('ordering', () => {
  it('a resolution that ended before a known re-fire started is stale and recovers nothing', () => {
    const { decision, known: after, notes } = run({ incident: openIncident(), known: known(['a', wasFiring('10:30')]), alerts: [resolved('a', '10:00', '10:20')] });
    expect(decision).toEqual({ kind: 'ignore', reason: 'stale: older than what is known' });
    expect(after.get('a')).toEqual(wasFiring('10:30'));
    expect(notes).toEqual(['alert a (HighErrorRate) is older than what is known of it: set aside']);
  });

  it('a firing that started no later than a known resolution is stale and reopens nothing', () => {
    const { decision, known: after } = run({
      incident: openIncident({ state: 'resolved', resolvedAt: at('10:21') }),
      known: known(['a', wasResolved('10:00', '10:20')]),
      alerts: [firing('a', '10:00')],
    });
    expect(decision).toEqual({ kind: 'ignore', reason: 'stale: older than what is known' });
    expect(after.get('a')).toEqual(wasResolved('10:00', '10:20'));
  });

  it('a firing of an earlier episode than the one known to fire is stale and keeps the known start', () => {
    const { decision, known: after } = run({ incident: openIncident(), known: known(['a', wasFiring('10:30')]), alerts: [firing('a', '10:00')] });
    expect(decision).toEqual({ kind: 'ignore', reason: 'stale: older than what is known' });
    expect(after.get('a')).toEqual(wasFiring('10:30'));
  });

  it('an alert back in the group after leaving it unresolved fires again', () => {
    const left: KnownAlert = { status: 'resolved', startsAt: at('10:00'), endsAt: null, component: 'api' };
    const { decision } = run({ incident: openIncident(), known: known(['a', left]), alerts: [firing('a', '10:00')] });
    expect(as(decision, 'update').alerts).toEqual(['a']);
  });

  it('a firing older than the start of an alert that left the group unresolved is stale', () => {
    const left: KnownAlert = { status: 'resolved', startsAt: at('10:00'), endsAt: null, component: 'api' };
    const { decision } = run({ incident: openIncident(), known: known(['a', left]), alerts: [firing('a', '09:50')] });
    expect(decision).toEqual({ kind: 'ignore', reason: 'stale: older than what is known' });
  });

  it('a resolved alert that arrives before its firing leaves the late firing stale', () => {
    const first = run({ alerts: [resolved('a', '10:00', '10:20')] });
    expect(first.decision).toEqual({ kind: 'ignore', reason: 'nothing firing and no open incident' });
    const late = run({ known: first.known, alerts: [firing('a', '10:00')] });
    expect(late.decision).toEqual({ kind: 'ignore', reason: 'stale: older than what is known' });
  });
});

describe('flapping', () => {
  it('firing again after a recovery, the incident still open, is an update "firing again" with the rule status and modes', () => {
    const { decision } = run({
      rule: rule({ modes: { web: 'read_only' } }),
      incident: openIncident(),
      known: known(['a', wasResolved('10:00', '10:20')]),
      alerts: [firing('a', '10:25')],
    });
    expect(as(decision, 'update')).toEqual({
      kind: 'update',
      incidentId: 7,
      message: 'Our automated systems see errors again:\n\n- HighErrorRate (api): a is failing',
      at: at('10:25'),
      statuses: { api: 'red' },
      modes: { web: 'read_only' },
      alerts: ['a'],
    });
  });
});

describe('a commander resolving while alerts fire', () => {
  const resolvedByHuman = openIncident({ state: 'resolved', resolvedAt: at('11:00'), resolvedByHuman: true, humanPosted: true });

  it('is not overridden: a firing notification within the quiet period is ignored, saying until when', () => {
    const { decision } = run({ incident: resolvedByHuman, known: known(['a', wasFiring('10:00')]), alerts: [firing('a', '10:00')], now: '11:29' });
    expect(decision).toEqual({
      kind: 'ignore',
      reason:
        'a commander resolved incident 7 at 2024-06-10T11:00:00.000Z; alerts open a new incident only after the 30-minute quiet period, from 2024-06-10T11:30:00.000Z',
    });
  });

  it('a re-fire within the quiet period is ignored too', () => {
    const { decision } = run({ incident: resolvedByHuman, known: known(['a', wasResolved('10:00', '11:05')]), alerts: [firing('a', '11:10')], now: '11:15' });
    expect(decision.kind).toBe('ignore');
  });

  it('once the quiet period has passed, alerts still firing open a new incident, starting at the resolution', () => {
    const { decision } = run({ incident: resolvedByHuman, known: known(['a', wasFiring('10:00')]), alerts: [firing('a', '10:00')], now: '11:30' });
    expect(as(decision, 'open')).toMatchObject({ at: at('11:00'), statuses: { api: 'red' }, alerts: ['a'] });
  });

  it('an incident the alerts resolved themselves has no quiet period: a re-fire opens a new one at once', () => {
    const autoResolved = openIncident({ state: 'resolved', resolvedAt: at('10:20'), resolvedByHuman: false });
    const { decision } = run({ incident: autoResolved, known: known(['a', wasResolved('10:00', '10:20')]), alerts: [firing('a', '10:22')], now: '10:23' });
    expect(as(decision, 'open')).toMatchObject({ at: at('10:22'), alerts: ['a'] });
  });
});

describe('matchers', () => {
  const critical = rule({ matchers: [{ name: 'severity', type: '=', value: 'critical' }] });

  it('a notification with no alert matching the rule is ignored', () => {
    const { decision, known: after } = run({ rule: critical, alerts: [firing('a', '10:00', { severity: 'warning' })] });
    expect(decision).toEqual({ kind: 'ignore', reason: 'no alert matches the rule' });
    expect(after.size).toBe(0);
  });

  it('only the matching alerts count', () => {
    const { decision, known: after } = run({ rule: critical, alerts: [firing('a', '10:00', { severity: 'warning' }), firing('b', '10:05', { severity: 'critical', component: 'db' })] });
    expect(as(decision, 'open')).toMatchObject({ at: at('10:05'), statuses: { db: 'red' }, alerts: ['b'] });
    expect([...after.keys()]).toEqual(['b']);
  });
});

describe('components', () => {
  it('an alert naming a component not on the page is set aside with a note, the others proceed', () => {
    const { decision, notes } = run({ alerts: [firing('a', '10:00', { component: 'billing' }), firing('b', '10:05')] });
    expect(as(decision, 'open')).toMatchObject({ statuses: { api: 'red' }, alerts: ['b'] });
    expect(as(decision, 'open').message).not.toContain('billing');
    expect(notes).toEqual(['alert a (HighErrorRate) names component "billing", which is not on the page']);
  });

  it('a notification whose alerts all name unknown components, or none, is ignored, saying which', () => {
    const lacking = { ...firing('b', '10:00'), labels: { alertname: 'NoComponent' } };
    const { decision } = run({ alerts: [firing('a', '10:00', { component: 'billing' }), lacking] });
    expect(decision).toEqual({
      kind: 'ignore',
      reason: 'no alert names a live component: alert a (HighErrorRate) names component "billing", which is not on the page; alert b (NoComponent) has no label "component" to name its component',
    });
  });

  it("a fixed component places every alert on it, whatever the alert's labels", () => {
    const { decision } = run({ rule: rule({ component: { fixed: 'web' } }), alerts: [firing('a', '10:00', { component: 'billing' })] });
    expect(as(decision, 'open').statuses).toEqual({ web: 'red' });
  });

  it('a fixed component that is no longer on the page makes the rule ignore everything', () => {
    const { decision } = run({ rule: rule({ component: { fixed: 'legacy' } }), alerts: [firing('a', '10:00')] });
    expect(decision).toEqual({ kind: 'ignore', reason: 'the rule\'s component "legacy" is not on the page' });
  });
});
