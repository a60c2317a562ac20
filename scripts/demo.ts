/**
 * `npm run demo`: fills the configured database (PGlite under HERALD_DATA_DIR, or DATABASE_URL)
 * with a realistic 90-day history, so a newcomer sees every feature of the status page at once:
 * a multi-hour outage across both environments with read-only and maintenance periods and a
 * published postmortem, smaller incidents (one development-only, one reopened), a completed and
 * an upcoming maintenance, and one incident open right now.
 *
 * Every write goes through the service functions, one transaction each (as the API writes), by a
 * token named "demo". Times are relative to the real current time; updates are backdated with `at`.
 * Refuses a database that already has incidents unless given --force.
 */
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import { localChanges, type Changes } from '../src/cache/changes.ts';
import { systemClock } from '../src/clock.ts';
import { ConfigError, parseConfig, type Config } from '../src/config.ts';
import { migrate } from '../src/db/migrator.ts';
import { seedEnvironments } from '../src/db/queries/environments.ts';
import { countIncidents } from '../src/db/queries/incidents.ts';
import type { Database } from '../src/db/schema.ts';
import type { Mode, Status } from '../src/domain/vocabulary.ts';
import { openDatabase } from '../src/entry/node.ts';
import { operator, type Actor, type Deps } from '../src/services/deps.ts';
import { openIncident, postUpdate, publishPostmortem, savePostmortem } from '../src/services/incidents.ts';
import { scheduleMaintenance } from '../src/services/maintenance.ts';
import { createSigninLink } from '../src/services/sessions.ts';
import { actorOf, createToken } from '../src/services/tokens.ts';
import { findToken } from '../src/db/queries/tokens.ts';

type Db = Kysely<Database>;

/** A step as the API takes it: times as ISO strings. */
const body = (s: Step) => ({ ...s, at: s.at.toISOString() });

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** One update of the demo history. */
interface Step {
  readonly at: Date;
  readonly state?: string;
  readonly message: string;
  readonly statuses?: Record<string, Status>;
  readonly modes?: Record<string, Mode>;
}

export interface DemoSummary {
  readonly tokenId: number;
  /** Rows of kind incident / maintenance written. */
  readonly incidents: number;
  readonly maintenance: number;
  readonly bigOutageId: number;
  readonly reopenedId: number;
  readonly developmentOnlyId: number;
  readonly openIncidentId: number;
  readonly completedMaintenanceId: number;
  readonly upcomingMaintenanceId: number;
  readonly upcomingMaintenanceAt: Date;
}

/** The environments and roles the demo history speaks of. */
export const DEMO_ENVIRONMENTS = ['production', 'development'] as const;
export const DEMO_ROLES = ['web', 'worker'] as const;

/**
 * Writes the demo history as of `now`, each write through the use cases the API calls (one
 * transaction, mode changes recorded, NOTIFY on commit, so a server already running on the same
 * Postgres refreshes its pages). `config` defaults to the default configuration (production and
 * development, web and worker); `changes` hears of every committed write.
 *
 * Each update is backdated with `at`, and each write is also made *as of* that moment (the
 * use cases' clock), in time order: so the audit log, `created_at` and the history of mode
 * changes (stamped with the clock's now) read as if commanders had posted live, and
 * the platform's "full since" is when the outage gave the API back, not when the demo ran.
 */
export async function seedDemo(db: Db, now: Date, options: { changes?: Changes; config?: Config } = {}): Promise<DemoSummary> {
  /** The use cases' clock reads the moment each write is made as of. */
  let current = now;
  let last = -Infinity;
  const deps: Deps = { db, clock: { now: () => current }, changes: options.changes ?? localChanges(), config: options.config ?? parseConfig({}) };
  // The environments the history speaks of, as a first start seeds them (none if there are some).
  await seedEnvironments(db, deps.config.environments);
  /** One use case, as of `at`: one transaction, with the change notification, as the API's. */
  const write = async <T>(at: Date, fn: () => Promise<{ readonly value: T }>): Promise<T> => {
    if (at.getTime() > now.getTime()) throw new Error(`demo: a write at ${at.toISOString()} would be in the future`);
    if (at.getTime() < last) throw new Error(`demo: writes go in time order (${at.toISOString()} comes after ${new Date(last).toISOString()})`);
    last = at.getTime();
    current = at;
    return (await fn()).value;
  };

  const midnight = Math.floor(now.getTime() / DAY) * DAY;
  /** HH:MM UTC on the day `daysAgo` days before today (negative: days ahead). */
  const day = (daysAgo: number, hhmm: string): Date => {
    const [h = 0, m = 0] = hhmm.split(':').map(Number);
    return new Date(midnight - daysAgo * DAY + h * HOUR + m * MIN);
  };
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const utc = (d: Date) => `${d.toISOString().slice(11, 16)} UTC`;
  const date = (d: Date) => d.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
  const tokenAt = day(90, '08:00');
  const made = await write(tokenAt, async () => ({ value: await createToken(deps, { actor: operator('cli:demo') }, { name: 'demo', scopes: ['admin'] }) }));
  const actor: Actor = actorOf((await findToken(db, made.id))!);

  async function incident(title: string, steps: readonly Step[]): Promise<number> {
    const [first, ...rest] = steps;
    if (!first) throw new Error('demo: an incident needs a first update');
    const incident = await write(first.at, () => openIncident(deps, { actor }, { title, ...body(first) }));
    for (const step of rest) await write(step.at, () => postUpdate(deps, { actor }, incident.id, body(step)));
    return incident.id;
  }

  /** A maintenance announced at its first step's time, then each later step posted to it. */
  async function maintenance(title: string, window: { from: Date; until: Date }, steps: readonly Step[]): Promise<number> {
    const [first, ...rest] = steps;
    if (!first) throw new Error('demo: a maintenance needs a first update');
    const announced = { title, message: first.message, environments: Object.keys(first.statuses ?? {}), modes: first.modes, scheduled_for: window.from.toISOString(), scheduled_until: window.until.toISOString() };
    const { id } = await write(first.at, () => scheduleMaintenance(deps, { actor }, announced));
    for (const step of rest) await write(step.at, () => postUpdate(deps, { actor }, id, body(step)));
    return id;
  }

  // ~83 days ago: a short, yellow-only slowdown.
  await incident('Elevated Platform API latency', [
    {
      at: day(83, '09:14'),
      state: 'investigating',
      statuses: { production: 'yellow' },
      message: 'We are seeing elevated response times on the Platform API in Production (p95 around 2.5 s, normally under 300 ms). Requests succeed, but `heroku` CLI commands and dashboard pages are slow. We are investigating.',
    },
    {
      at: day(83, '09:41'),
      state: 'identified',
      message: 'One of the API database read replicas is saturated by an unusually heavy batch of analytics queries. We are moving read traffic off it and throttling the batch.',
    },
    {
      at: day(83, '10:02'),
      state: 'monitoring',
      message: 'Read traffic has been rebalanced and p95 latency is back under 300 ms. We are monitoring.',
    },
    {
      at: day(83, '10:24'),
      state: 'resolved',
      message: 'Latency has stayed normal for 20 minutes. This incident is resolved.',
    },
  ]);

  // ~71 days ago: Development only, red then yellow.
  const developmentOnlyId = await incident('Git pushes failing on Development', [
    {
      at: day(71, '16:05'),
      state: 'investigating',
      statuses: { development: 'red' },
      message: '`git push heroku main` is failing for apps in **Development** with `remote: Internal Server Error`. Production deploys are not affected. We are investigating.',
    },
    {
      at: day(71, '16:30'),
      state: 'identified',
      statuses: { development: 'yellow' },
      message: 'A configuration change to the Development build router sent pushes to a decommissioned pool. The change has been rolled back; most pushes succeed again, and the rest should recover as router caches expire over the next 30 minutes.',
    },
    {
      at: day(71, '17:10'),
      state: 'resolved',
      message: 'Pushes to Development have succeeded consistently since 16:52 UTC. If a push failed during the incident, push again. Resolved.',
    },
  ]);

  // ~58 days ago (announced a week before): a completed maintenance.
  const dbUpgradeFrom = day(58, '06:00');
  const completedMaintenanceId = await maintenance('Platform API database upgrade', { from: dbUpgradeFrom, until: day(58, '08:00') }, [
    {
      at: day(65, '14:00'),
      state: 'scheduled',
      statuses: { production: 'blue' },
      modes: { web: 'read_only', worker: 'maintenance' },
      message: `We will upgrade the Platform API's primary database on ${date(dbUpgradeFrom)} from ${utc(dbUpgradeFrom)}, for up to two hours.\n\nDuring the window:\n\n- the Platform API is **read-only**: deploys, scaling and config changes are refused;\n- background jobs (builds, release phase, scheduled dynos' provisioning) are paused and resume afterwards;\n- running apps keep serving traffic.`,
    },
    {
      at: day(59, '06:00'),
      state: 'scheduled',
      message: 'Reminder: this maintenance starts in 24 hours. Plan deploys and config changes around the window.',
    },
    {
      at: dbUpgradeFrom,
      state: 'in_progress',
      statuses: { production: 'blue' },
      modes: { web: 'read_only', worker: 'maintenance' },
      message: 'Maintenance has started. The Platform API is read-only and background jobs are paused.',
    },
    {
      at: day(58, '06:50'),
      state: 'in_progress',
      message: 'The primary has been upgraded and is serving reads. Replicas are catching up; we expect to finish well inside the window.',
    },
    {
      at: day(58, '07:35'),
      state: 'completed',
      message: 'The upgrade is complete. The Platform API accepts writes again and background jobs have resumed. Thank you for your patience.',
    },
  ]);

  // ~45 days ago: yellow-only, late evening.
  await incident('Delayed webhook deliveries', [
    {
      at: day(45, '20:47'),
      state: 'investigating',
      statuses: { production: 'yellow' },
      message: 'App webhooks and release notifications are being delivered with delays of up to 20 minutes. No events have been lost. We are investigating.',
    },
    {
      at: day(45, '21:15'),
      state: 'identified',
      message: 'One of the delivery queues stopped consuming after a routine broker restart. We have restarted its consumers and the backlog is draining.',
    },
    {
      at: day(45, '22:05'),
      state: 'monitoring',
      message: 'The backlog has been delivered and new events arrive within seconds. We are monitoring.',
    },
    {
      at: day(45, '22:40'),
      state: 'resolved',
      message: 'Deliveries have been timely for over half an hour. Resolved. We are adding an alert on consumer lag so this is caught in minutes next time.',
    },
  ]);

  // ~34 days ago: the big outage, across both environments, with read-only and maintenance periods.
  const outageStart = day(34, '14:02');
  const bigOutageId = await incident('Platform API outage: database failover', [
    {
      at: outageStart,
      state: 'investigating',
      statuses: { production: 'red', development: 'yellow' },
      message: 'We are investigating elevated error rates and timeouts on the Platform API. Deploys, scaling and dashboard changes are failing for many customers in **Production**, and some running apps return errors. Builds on Development are slow. Next update within 30 minutes.',
    },
    {
      at: day(34, '14:19'),
      state: 'investigating',
      statuses: { development: 'red' },
      modes: { web: 'read_only' },
      message: 'To protect data while we investigate, we have put the Platform API into **read-only** mode: reads (listing apps, viewing config and logs) work; deploys, scaling and config changes are refused with `503 read_only`. Development is now failing too: both environments share the affected database cluster.',
    },
    {
      at: day(34, '14:48'),
      state: 'identified',
      modes: { web: 'maintenance', worker: 'maintenance' },
      message: 'We have identified the cause: the primary of the API database cluster lost its storage volume, and the automatic failover to the standby stalled part-way.\n\nTo promote the standby safely we are putting the Platform API and the background workers into **maintenance**: every API request gets a `503` until this completes. Running apps keep serving traffic.',
    },
    {
      at: day(34, '15:31'),
      state: 'identified',
      message: `Promotion of the standby is under way. WAL replay is about 60% done and we expect it to finish in roughly 40 minutes. Next update by ${utc(day(34, '16:15'))}.`,
    },
    {
      at: day(34, '16:15'),
      state: 'identified',
      message: 'WAL replay is complete and the new primary passed its consistency checks. We are bringing the workers back first, then the API.',
    },
    {
      at: day(34, '16:40'),
      state: 'monitoring',
      statuses: { production: 'yellow', development: 'yellow' },
      modes: { web: 'read_only', worker: 'full' },
      message: 'The new primary is up. Background workers are back and draining a queue of about 18,000 delayed jobs. The API stays **read-only** while we verify replication to the new standby; deploys will be re-enabled shortly.',
    },
    {
      at: day(34, '17:25'),
      state: 'monitoring',
      statuses: { development: 'green' },
      modes: { web: 'full' },
      message: 'The Platform API is fully available again: deploys, scaling and config changes work. Development is back to normal. Production builds are still slower than usual while the job backlog drains (about 4,000 jobs left).',
    },
    {
      at: day(34, '18:10'),
      state: 'resolved',
      message: `This incident is resolved: all services are operating normally and the job backlog has cleared.\n\nDeploys that failed between ${utc(outageStart)} and ${utc(day(34, '17:25'))} need to be retried. We will publish a postmortem within five business days.`,
    },
  ]);
  const written = day(31, '10:00');
  const published = day(30, '16:00');
  await write(written, () => savePostmortem(deps, { actor }, bigOutageId, { markdown: postmortem(date(outageStart)) }));
  await write(published, () => publishPostmortem(deps, { actor }, bigOutageId));

  // ~21 days ago: resolved too early, reopened, resolved again.
  const reopenedId = await incident('Log drain delivery delays', [
    {
      at: day(21, '09:12'),
      state: 'investigating',
      statuses: { production: 'yellow' },
      message: 'Logs sent to log drains (Papertrail, Datadog, custom syslog endpoints) are arriving up to 15 minutes late. `heroku logs --tail` is not affected.',
    },
    {
      at: day(21, '09:40'),
      state: 'identified',
      message: 'A log router node is dropping back-pressure signals and retrying too slowly. We are replacing it.',
    },
    {
      at: day(21, '10:05'),
      state: 'monitoring',
      message: 'The node has been replaced and drain latency is back to normal. Monitoring.',
    },
    {
      at: day(21, '10:50'),
      state: 'resolved',
      message: 'Drain delivery has been on time for 45 minutes. Resolved.',
    },
    {
      at: day(21, '12:31'),
      state: 'investigating',
      statuses: { production: 'yellow' },
      message: '**Reopened:** drain delays have returned for a subset of apps. The replacement node shows the same behaviour, so the cause is not the hardware. Investigating.',
    },
    {
      at: day(21, '13:02'),
      state: 'monitoring',
      message: 'The cause was a bad TLS session cache setting in the last log router release. We have rolled the release back across the fleet; delays are clearing.',
    },
    {
      at: day(21, '13:45'),
      state: 'resolved',
      message: 'Drains have been on time since the rollback. Resolved, this time for good.',
    },
  ]);

  // ~9 days ago: short, both environments yellow.
  await incident('Metrics tab errors in the dashboard', [
    {
      at: day(9, '11:20'),
      state: 'investigating',
      statuses: { production: 'yellow', development: 'yellow' },
      message: 'Some customers see "Something went wrong" when opening the **Metrics** tab of an app in the dashboard. Apps and the API are not affected.',
    },
    {
      at: day(9, '11:38'),
      state: 'identified',
      message: 'A dashboard release from this morning requests a metrics endpoint that is not yet deployed. We are rolling the dashboard back.',
    },
    {
      at: day(9, '11:55'),
      state: 'resolved',
      message: 'The rollback is complete and the Metrics tab loads again. Resolved.',
    },
  ]);

  // ~3 days ago: a long yellow night.
  await incident('Delayed SSL certificate issuance for custom domains', [
    {
      at: day(3, '02:10'),
      state: 'investigating',
      statuses: { production: 'yellow' },
      message: 'Automated Certificate Management is failing to issue or renew certificates for some custom domains. Existing certificates keep working.',
    },
    {
      at: day(3, '03:25'),
      state: 'identified',
      message: 'Our certificate authority is rate-limiting us after a retry storm from our own issuer. We have slowed retries down and re-queued the failed orders.',
    },
    {
      at: day(3, '05:40'),
      state: 'monitoring',
      message: 'Orders are being issued again; the queue of about 2,300 pending certificates is going down steadily.',
    },
    {
      at: day(3, '07:15'),
      state: 'resolved',
      message: 'Every queued certificate has been issued. If a domain still shows `Failing`, run `heroku certs:auto:refresh`. Resolved.',
    },
  ]);

  // Upcoming: announced two days ago, four days ahead.
  const upcomingFrom = day(-4, '06:00');
  const upcomingMaintenanceId = await maintenance('Job queue cluster migration', { from: upcomingFrom, until: day(-4, '09:00') }, [
    {
      at: day(2, '15:30'),
      state: 'scheduled',
      statuses: { production: 'blue' },
      modes: { worker: 'maintenance' },
      message: `We will move the background job queue to a new cluster on ${date(upcomingFrom)}, ${utc(upcomingFrom)}–${utc(day(-4, '09:00'))}.\n\n- Builds, release phase commands and one-off dynos started through the API **wait** until the migration completes.\n- The Platform API stays available; running apps are not affected.\n\nWe expect the pause to last under an hour of the three-hour window.`,
    },
  ]);

  // Now: the one open incident.
  const openIncidentId = await incident('Degraded builds on Development', [
    {
      at: ago(52 * MIN),
      state: 'investigating',
      statuses: { development: 'yellow' },
      message: 'Builds on **Development** are taking 3–5× longer than usual and some time out after 15 minutes. Production builds are not affected. We are investigating.',
    },
    {
      at: ago(21 * MIN),
      state: 'identified',
      message: 'A build cache node in Development is failing health checks intermittently, so builds fall back to cold caches. We are draining it from the pool. Builds that fail can simply be retried. Next update in 30 minutes.',
    },
  ]);

  return {
    tokenId: made.id,
    incidents: 8,
    maintenance: 2,
    bigOutageId,
    reopenedId,
    developmentOnlyId,
    openIncidentId,
    completedMaintenanceId,
    upcomingMaintenanceId,
    upcomingMaintenanceAt: upcomingFrom,
  };
}

/** The postmortem of the big outage; its figures are the ones the timeline above implies. */
function postmortem(when: string): string {
  return `### Summary

On ${when}, from 14:02 to 18:10 UTC, the Platform API was degraded or unavailable in Production and Development after the primary of the API database cluster lost its storage volume and the automatic failover stalled. Running apps mostly kept serving traffic; deploys, scaling and config changes did not work for most of the afternoon.

### Impact

- **Production**: outage for 2 hours 38 minutes, then degraded (slow builds) for 1 hour 30 minutes.
- **Development**: impaired for 3 hours 23 minutes, 2 hours 21 minutes of it a full outage.
- **Platform API (web)**: read-only for 1 hour 14 minutes and in maintenance (every request refused) for 1 hour 52 minutes.
- **Background workers**: stopped for 1 hour 52 minutes; about 18,000 jobs were delayed, none lost.

### What happened

1. At 13:58 UTC the storage volume under the primary database of \`api-db-3\` became unresponsive.
2. Automatic failover started, but the standby was fenced *before* it had replayed the last write-ahead log segment, and the promotion stopped half-way.
3. At 14:19 we made the API read-only to stop half-applied writes, and at 14:48, once we understood the failover state, we put the API and workers into maintenance to promote the standby by hand.
4. The new primary took writes from 16:40. We brought workers back first to drain the job queue, then re-enabled API writes at 17:25.

### Root cause

Our failover tooling fenced the old primary and promoted the standby as two independent steps with a fixed 30-second timeout between them. Under the I/O stall the standby needed longer to catch up, and the tooling gave up without rolling back the fence. The runbook for this case assumed \`pg_promote()\` had already been called, so the first 40 minutes went on diagnosis.

### What we are changing

- **Done:** make fencing and promotion one step that waits for WAL replay instead of a fixed timeout.
- Run a failover game day every month on a production-sized replica.
- Move Development's control plane to its own database cluster, so one failure cannot take down both environments.
- Switch the API to read-only automatically when the database primary is unreachable, instead of by hand.

See the PostgreSQL documentation on [\`pg_promote\` and standby promotion](https://www.postgresql.org/docs/15/warm-standby-failover.html) for the mechanism involved. We are sorry for the disruption this caused.
`;
}

const err = (line: string) => process.stderr.write(`${line}\n`);

const USAGE = `Usage: npm run demo [-- --force]

Fills the configured database (HERALD_DATA_DIR, or DATABASE_URL) with a 90-day demo history.
--force  add the demo history even if the database already has incidents`;

function describeDatabase(config: Config): string {
  return config.databaseUrl ? 'the Postgres database at DATABASE_URL' : `the embedded database in ${config.dataDir}`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== '--force');
  if (unknown.includes('--help') || unknown.includes('-h')) {
    err(USAGE);
    return 0;
  }
  if (unknown.length) {
    err(`demo: unknown argument ${unknown.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  const force = argv.includes('--force');
  let config: Config;
  try {
    config = parseConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`demo: invalid configuration: ${e.message.split('\n').join('; ')}`);
      return 1;
    }
    throw e;
  }
  const handle = await openDatabase(config);
  try {
    await migrate(handle.db);
    const existing = await countIncidents(handle.db);
    if (existing > 0 && !force) {
      err(
        `demo: ${describeDatabase(config)} already has ${existing} incident${existing === 1 ? '' : 's'}; refusing to add the demo history to it.\n` +
          'Point HERALD_DATA_DIR (or DATABASE_URL) at an empty database, or run `npm run demo -- --force` to add it anyway.',
      );
      return 1;
    }
    const slugs = config.environments.map((e) => e.slug);
    const missing = [...DEMO_ENVIRONMENTS.filter((s) => !slugs.includes(s)), ...DEMO_ROLES.filter((r) => !config.roles.includes(r))];
    if (missing.length) err(`demo: warning: the demo history names ${missing.join(', ')}, which the configuration (HERALD_ENVIRONMENTS / HERALD_ROLES) does not list; those parts will not show.`);

    const s = await seedDemo(handle.db, new Date(), { config });
    const base = `http://localhost:${config.port}`;
    const signin = await createSigninLink({ db: handle.db, clock: systemClock, config, changes: localChanges() }, actorOf((await findToken(handle.db, s.tokenId))!));
    err(
      [
        `Seeded ${describeDatabase(config)} with a 90-day demo history (author: token "demo" #${s.tokenId}):`,
        `  ${s.incidents} incidents, 1 open now: ${base}/incidents/${s.openIncidentId}`,
        `  the big outage, with a published postmortem: ${base}/incidents/${s.bigOutageId}`,
        `  a reopened incident: ${base}/incidents/${s.reopenedId}`,
        `  ${s.maintenance} maintenance: one completed (${base}/incidents/${s.completedMaintenanceId}), one scheduled for ${s.upcomingMaintenanceAt.toISOString().replace('T', ' ').slice(0, 16)} UTC`,
        '',
        `Now run \`npm start\`${config.databaseUrl ? ' (with the same DATABASE_URL)' : config.dataDir === './data' ? '' : ` (with HERALD_DATA_DIR=${config.dataDir})`} and open ${base}`,
        `The commander console, signed in as "demo" (this link works once, for 15 minutes): ${signin.url}`,
      ].join('\n'),
    );
    return 0;
  } finally {
    await handle.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      err(`demo: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exitCode = 1;
    },
  );
}
