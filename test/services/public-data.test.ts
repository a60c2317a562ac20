import { sql, type Kysely, type KyselyPlugin, type RawNode } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localChanges } from '../../src/cache/changes.ts';
import { fixedClock } from '../../src/clock.ts';
import { parseConfig, type Config } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import * as q from '../../src/db/queries/incidents.ts';
import * as mq from '../../src/db/queries/modes.ts';
import { currentTransactionId } from '../../src/db/queries/system.ts';
import type { Database } from '../../src/db/schema.ts';
import { isActive, statusSegments } from '../../src/domain/timeline.ts';
import { rangeUptime } from '../../src/domain/uptime.ts';
import { worstStatus } from '../../src/domain/vocabulary.ts';
import type { Actor, Deps } from '../../src/services/deps.ts';
import * as incidents from '../../src/services/incidents.ts';
import * as maintenance from '../../src/services/maintenance.ts';
import { platformModes } from '../../src/services/modes.ts';
import * as overrides from '../../src/services/overrides.ts';
import { BAR_DAYS, buildPublicData, FEED_ITEMS, PublicDataBuilder, windowStart, type PublicData } from '../../src/services/public-data.ts';
import { groupByIncident, incidentViews, toEntry, type StatusView } from '../../src/services/read-model.ts';
import { backendName, freshDatabase } from '../support/db.ts';
import { seeder } from '../support/seed.ts';
import { referenceDailyBars } from '../support/reference-bars.ts';
import { loadCatalog } from '../../src/db/queries/environments.ts';
import { withCatalog } from '../../src/domain/components.ts';

/**
 * The public data is built incrementally: after a first full build, each build reads again only
 * the incidents changed since the one before (src/services/public-data.ts). Whatever happened in
 * between, the result must be what a full build makes at that moment. Each test below makes one
 * kind of write through its use case, then compares a builder that was there before the write
 * with a fresh full build, deep-equal; and checks the builder did read only what changed.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = '2030-03-10T10:00:00.000Z';

const config: Config = parseConfig({ PUBLIC_URL: 'https://status.example.com' });
const clock = fixedClock(T0);
let handle: DatabaseHandle;
let db: Kysely<Database>;
let deps: Deps;
let actor: Actor;

const ago = (ms: number) => new Date(clock.now().getTime() - ms).toISOString();
/** Moves the clock on a minute: each write happens at a moment of its own. */
const tick = (ms = MIN) => clock.advance(ms);

/**
 * What the front page was built from before the incremental builder (the full build of every
 * query, the bars day by day): the reference the optimised full build must equal.
 */
async function referenceBuild(now: Date): Promise<PublicData> {
  const start = new Date(Math.floor(now.getTime() / DAY) * DAY - (BAR_DAYS - 1) * DAY);
  const [openRows, closedRows, recentRows, last, active_, latest, feed] = await Promise.all([
    q.openIncidents(db),
    q.closedSince(db, start),
    q.listIncidents(db, { limit: 5, state: 'closed', kind: 'incident' }),
    q.lastChange(db),
    mq.activeOverrides(db),
    mq.latestModeChanges(db, config.roles),
    q.latestUpdates(db, FEED_ITEMS),
  ]);
  const catalog = await loadCatalog(db);
  const page = await db.selectFrom('herald_settings').select('value').where('name', '=', 'page_id').executeTakeFirstOrThrow();
  const live = withCatalog(config, catalog);
  const rows = [...openRows, ...closedRows];
  const byIncident = groupByIncident(await q.visibleUpdatesOf(db, rows.map((r) => r.id)));
  const segments = rows.flatMap((r) => statusSegments(r.kind, (byIncident.get(r.id) ?? []).map(toEntry), now));
  const open = await incidentViews(db, config, openRows, now);
  const active = open.filter((v) => isActive(v.kind, v.state));
  const status: StatusView = {
    environments: live.environments.map((e) => ({ slug: e.slug, name: e.name, status: worstStatus(active.map((v) => v.statuses[e.slug] ?? 'green')) })),
    incidents: active,
    scheduled: open.filter((v) => v.kind === 'maintenance' && v.state === 'scheduled').sort((a, b) => (a.scheduled_for ?? a.started_at).localeCompare(b.scheduled_for ?? b.started_at)),
    updated_at: (last ?? now).toISOString(),
  };
  return {
    catalog,
    pageId: page.value,
    status,
    platform: platformModes(live, open, active_, latest),
    bars: live.environments.map((e) => {
      const startDate = catalog.components.find((c) => c.slug === e.slug)?.start_date ?? null;
      const days = referenceDailyBars(segments, e.slug, now, BAR_DAYS, startDate);
      return { slug: e.slug, name: e.name, start_date: startDate, uptime: rangeUptime(days, now), days };
    }),
    recent: await incidentViews(db, config, recentRows, now),
    lastChange: last?.toISOString() ?? null,
    feed,
  };
}

/** A builder that has made its first (full) build now. */
async function builtBefore(): Promise<PublicDataBuilder> {
  const builder = new PublicDataBuilder(db, config);
  await builder.build(clock.now());
  expect(builder.lastBuild?.kind).toBe('full');
  return builder;
}

/**
 * The builder's next build equals a full build at the same moment (and the reference), and it
 * read again at most `atMost` incidents.
 */
async function expectSameAsFull(builder: PublicDataBuilder, atMost: number): Promise<PublicData> {
  const now = clock.now();
  const incremental = await builder.build(now);
  expect(builder.lastBuild?.kind).toBe('incremental');
  expect(builder.lastBuild!.read).toBeLessThanOrEqual(atMost);
  const fresh = new PublicDataBuilder(db, config);
  const full = await fresh.build(now);
  expect(incremental).toEqual(full);
  // and it keeps what a full build keeps: incidents that left the window are let go
  expect(builder.lastBuild!.held).toBe(fresh.lastBuild!.held);
  expect(full).toEqual(await referenceBuild(now));
  return incremental;
}

const open = (body: { title: string; message: string; [k: string]: unknown }) => incidents.openIncident(deps, { actor }, body).then((r) => r.value);
const post = (id: number, body: { message: string; [k: string]: unknown }) => incidents.postUpdate(deps, { actor }, id, body).then((r) => r.value);

/** A closed incident: opened `hoursAgo`, red on production for a while, resolved `durationHours` later. */
async function closedIncident(title: string, hoursAgo: number, durationHours = 2) {
  const start = clock.now().getTime() - hoursAgo * HOUR;
  const at = (h: number) => new Date(start + h * HOUR).toISOString();
  const opened = await open({ title, message: 'Looking.', at: at(0), statuses: { production: 'red' }, modes: { web: 'read_only' } });
  await post(opened.id, { message: 'Found it.', state: 'identified', at: at(durationHours / 3), statuses: { production: 'yellow' } });
  await post(opened.id, { message: 'Watching.', state: 'monitoring', at: at((2 * durationHours) / 3) });
  await post(opened.id, { message: 'Fixed.', state: 'resolved', at: at(durationHours) });
  return opened.id;
}

beforeAll(async () => {
  handle = await freshDatabase();
  db = handle.db;
  deps = { db, config, changes: localChanges(), clock };
  actor = (await seeder(db, { config }).token(['admin'], 'public-data', clock.now())).actor;
  // History: some of it in the window, some long gone, and more closed incidents than the front page lists.
  await closedIncident('Old outage', 400 * 24);
  await closedIncident('Outage two months ago', 60 * 24, 30);
  for (let i = 0; i < 7; i++) await closedIncident(`Recent trouble ${i}`, (20 - i) * 24, 1 + i);
  const running = await open({ title: 'Slow builds', message: 'Builds queue.', at: ago(3 * HOUR), statuses: { development: 'yellow' } });
  await post(running.id, { message: 'Worse.', at: ago(2 * HOUR), statuses: { development: 'red' }, modes: { worker: 'read_only' } });
  await maintenance.scheduleMaintenance(deps, { actor }, { title: 'Database upgrade', message: 'Planned.', scheduled_for: new Date(clock.now().getTime() + 2 * DAY).toISOString(), environments: ['production'] });
  tick();
});
afterAll(async () => handle?.close());

describe(`the incremental public data build equals a full build (${backendName})`, () => {
  it('when nothing changed, the next build reads no incident again', async () => {
    const builder = await builtBefore();
    tick();
    await expectSameAsFull(builder, 0);
  });

  it('when an incident is opened, it shows as open and in the bars of today', async () => {
    const builder = await builtBefore();
    tick();
    const opened = await open({ title: 'API errors', message: 'Errors.', statuses: { production: 'red' }, modes: { web: 'read_only' } });
    tick(10 * MIN);
    const data = await expectSameAsFull(builder, 1);
    expect(data.status.incidents.map((v) => v.id)).toContain(opened.id);
    expect(data.bars.find((b) => b.slug === 'production')!.days.at(-1)!.status).toBe('red');
  });

  it('when an update is posted, and when it resolves the incident, the status, bars, recent list and platform follow', async () => {
    const opened = await open({ title: 'Dashboard slow', message: 'Slow.', statuses: { production: 'yellow' }, modes: { worker: 'read_only' } });
    tick();
    const builder = await builtBefore();
    tick();
    await post(opened.id, { message: 'Worse.', state: 'identified', statuses: { production: 'red' } });
    tick();
    await expectSameAsFull(builder, 1);
    tick();
    await post(opened.id, { message: 'Fixed.', state: 'resolved' });
    tick();
    const data = await expectSameAsFull(builder, 1);
    expect(data.recent[0]!.id).toBe(opened.id);
    expect(data.status.incidents.map((v) => v.id)).not.toContain(opened.id);
  });

  it('when an update reopens a closed incident of the window, its stretches are read again, and the recent list moves up one', async () => {
    const id = await closedIncident('Reopened later', 5 * 24);
    const builder = await builtBefore();
    tick();
    await post(id, { message: 'It came back.', state: 'investigating', statuses: { production: 'red' } });
    tick();
    // it, and the incident that takes its place in the recent list
    const data = await expectSameAsFull(builder, 2);
    expect(data.status.incidents.map((v) => v.id)).toContain(id);
  });

  it('when an update is posted to an incident long out of the window, only it is read, and nothing else moves', async () => {
    const id = await closedIncident('Ancient', 300 * 24);
    const builder = await builtBefore();
    tick();
    await post(id, { message: 'A late note.', state: 'resolved', at: ago(300 * 24 * HOUR - 3 * HOUR) });
    tick();
    await expectSameAsFull(builder, 1);
  });

  it('when a title is edited (open, recent and old incidents), the new title shows', async () => {
    const recentId = (await buildPublicData(db, config, clock.now())).recent[0]!.id;
    const openId = (await buildPublicData(db, config, clock.now())).status.incidents[0]!.id;
    const builder = await builtBefore();
    tick();
    await incidents.editIncident(deps, { actor }, recentId, { title: 'Renamed recent incident' });
    await incidents.editIncident(deps, { actor }, openId, { title: 'Renamed open incident' });
    tick();
    const data = await expectSameAsFull(builder, 2);
    expect(data.recent[0]!.title).toBe('Renamed recent incident');
  });

  it('when an update is hidden, the durations and bars no longer count it', async () => {
    const id = await closedIncident('Hidden update inside', 3 * 24, 6);
    const builder = await builtBefore();
    const yellow = (d: PublicData) => d.bars.find((b) => b.slug === 'production')!.days.reduce((s, b) => s + b.yellowSeconds, 0);
    const before = await buildPublicData(db, config, clock.now());
    tick();
    const identified = (await incidents.hideUpdate(deps, { actor }, id, (await q.visibleUpdatesOf(db, [id]))[1]!.id, { reason: 'wrong incident' })).value;
    expect(identified.updates).toHaveLength(3);
    tick();
    const data = await expectSameAsFull(builder, 1);
    expect(yellow(data)).toBeLessThan(yellow(before));
  });

  it('when a postmortem is saved and then published, the recent incident carries it', async () => {
    const id = await closedIncident('Needs a postmortem', 2);
    const builder = await builtBefore();
    tick();
    await incidents.savePostmortem(deps, { actor }, id, { markdown: '## What happened\n\nA pool ran dry.' });
    tick();
    await expectSameAsFull(builder, 1);
    tick();
    await incidents.publishPostmortem(deps, { actor }, id);
    tick();
    const data = await expectSameAsFull(builder, 1);
    expect(data.recent.find((v) => v.id === id)?.postmortem?.markdown).toContain('A pool ran dry');
  });

  it('when maintenance is scheduled, rescheduled, run and cancelled, each step shows', async () => {
    const builder = await builtBefore();
    tick();
    const scheduled = (await maintenance.scheduleMaintenance(deps, { actor }, { title: 'Router upgrade', message: 'Planned.', scheduled_for: new Date(clock.now().getTime() + DAY).toISOString(), environments: ['production'], modes: { worker: 'read_only' } })).value;
    tick();
    let data = await expectSameAsFull(builder, 1);
    expect(data.status.scheduled.map((v) => v.id)).toContain(scheduled.id);
    await maintenance.reschedule(deps, { actor }, scheduled.id, { scheduled_for: new Date(clock.now().getTime() + 3 * DAY).toISOString() });
    tick();
    data = await expectSameAsFull(builder, 1);
    expect(data.status.scheduled.find((v) => v.id === scheduled.id)?.scheduled_for).toBe(new Date(clock.now().getTime() - MIN + 3 * DAY).toISOString());
    await maintenance.runNow(deps, { actor }, scheduled.id, {});
    tick(30 * MIN);
    data = await expectSameAsFull(builder, 1);
    expect(data.status.incidents.map((v) => v.id)).toContain(scheduled.id);
    await maintenance.cancel(deps, { actor }, scheduled.id, {});
    tick();
    data = await expectSameAsFull(builder, 1);
    expect(data.status.incidents.map((v) => v.id)).not.toContain(scheduled.id);
    const other = (await maintenance.scheduleMaintenance(deps, { actor }, { title: 'Never run', message: 'Planned.', scheduled_for: new Date(clock.now().getTime() + DAY).toISOString() })).value;
    tick();
    await maintenance.cancel(deps, { actor }, other.id, {});
    tick();
    await expectSameAsFull(builder, 2);
  });

  it('when an override is set and cleared, the platform modes follow, and no incident is read again', async () => {
    const builder = await builtBefore();
    tick();
    await overrides.setOverride(deps, { actor }, 'web', { mode: 'maintenance', reason: 'Failing over' });
    tick();
    let data = await expectSameAsFull(builder, 0);
    expect(data.platform.find((r) => r.role === 'web')?.mode).toBe('maintenance');
    await overrides.clearOverride(deps, { actor }, 'web', {});
    tick();
    data = await expectSameAsFull(builder, 0);
    expect(data.platform.find((r) => r.role === 'web')?.mode).not.toBe('maintenance');
  });

  it('when more incidents changed than the builder reads one by one (a bulk import), it makes a full build', async () => {
    const builder = new PublicDataBuilder(db, config, { maxChanged: 2 });
    await builder.build(clock.now());
    tick();
    for (const n of [1, 2, 3]) await open({ title: `Imported ${n}`, message: 'Imported.', at: ago(n * DAY) });
    tick();
    const data = await builder.build(clock.now());
    expect(builder.lastBuild?.kind).toBe('full');
    expect(data).toEqual(await buildPublicData(db, config, clock.now()));
    tick();
    await expectSameAsFull(builder, 0);
  });

  it('when reset (notifications were lost: a failover or a restore may lie behind it), the next build reads everything, and a build running then keeps nothing', async () => {
    const builder = await builtBefore();
    builder.reset();
    tick();
    await builder.build(clock.now());
    expect(builder.lastBuild?.kind).toBe('full');
    const running = builder.build(clock.now());
    builder.reset();
    await running;
    tick();
    const data = await builder.build(clock.now());
    expect(builder.lastBuild?.kind).toBe('full');
    expect(data).toEqual(await buildPublicData(db, config, clock.now()));
  });

  it('when writes come from another instance (another builder, no notice), the next build has them', async () => {
    const here = await builtBefore();
    const there = await builtBefore();
    tick();
    const opened = await open({ title: 'Seen elsewhere', message: 'Opened on another instance.', statuses: { development: 'yellow' } });
    tick();
    await expectSameAsFull(there, 1);
    await post(opened.id, { message: 'Resolved there too.', state: 'resolved' });
    tick();
    await expectSameAsFull(here, 1);
  });

  it('when the clock passes midnight, the bars move on a day with nothing read again', async () => {
    const now = clock.now().getTime();
    clock.set(new Date(Math.floor(now / DAY) * DAY + DAY - 2 * MIN));
    const builder = await builtBefore();
    const before = await builder.build(clock.now());
    tick(4 * MIN);
    const after = await expectSameAsFull(builder, 0);
    expect(after.bars[0]!.days[0]!.date).toBe(before.bars[0]!.days[1]!.date);
    expect(after.bars[0]!.days.at(-1)!.date).toBe(clock.now().toISOString().slice(0, 10));
  });

  it('when the clock passes 90 days after an incident ended, it leaves the bars; when it goes back, the build is full again', async () => {
    await closedIncident('About to leave the window', 88 * 24 + 12, 5);
    const day = new Date(clock.now().getTime() - 88 * DAY - 12 * HOUR).toISOString().slice(0, 10);
    const builder = await builtBefore();
    const production = (d: PublicData) => d.bars.find((b) => b.slug === 'production')!.days;
    expect(production(await builder.build(clock.now())).find((b) => b.date === day)?.redSeconds).toBeGreaterThan(0);
    const at = clock.now();
    clock.advance(3 * DAY);
    const data = await expectSameAsFull(builder, 0);
    expect(production(data)[0]!.date > day).toBe(true);
    // a hundred days on, everything closed above has left the window as well
    clock.advance(100 * DAY);
    await expectSameAsFull(builder, 0);
    // back in time: what left must come back, so the builder reads everything again
    clock.set(at);
    const back = await builder.build(clock.now());
    expect(builder.lastBuild?.kind).toBe('full');
    expect(back).toEqual(await buildPublicData(db, config, clock.now()));
    expect(production(back).find((b) => b.date === day)?.redSeconds).toBeGreaterThan(0);
  });
});

/** An incident's row as a full build reads the window (closedTimelinesSince). */
const windowRow = async (id: number) => (await q.closedTimelinesSince(db, new Date(windowStart(clock.now())))).find((r) => r.id === id)!;
/** What incident_stretches keeps of an incident, or null. */
const keptOf = async (id: number) => (await db.selectFrom('incident_stretches').select('stretches').where('incident_id', '=', id).executeTakeFirst())?.stretches ?? null;

describe(`kept stretches: a full build reads what an earlier one computed instead of the updates (${backendName})`, () => {
  /** A full build by a new builder, once its stretches are written; checked against the reference. */
  async function fullBuild(): Promise<PublicData> {
    const builder = new PublicDataBuilder(db, config);
    const data = await builder.build(clock.now());
    await builder.stored;
    expect(builder.lastBuild?.kind).toBe('full');
    expect(data).toEqual(await referenceBuild(clock.now()));
    return data;
  }
  /** What statusSegments makes of an incident's visible updates, as incident_stretches keeps it. */
  async function computed(id: number) {
    const [row] = await q.incidentsByIds(db, [id]);
    return statusSegments(row!.kind, (await q.visibleUpdatesOf(db, [id])).map(toEntry), clock.now()).map((s): q.StoredStretch => [s.environment, s.status, s.from, s.to]);
  }

  it("a full build keeps each closed incident's stretches; the next full build reads them, not the updates, and makes the same data", async () => {
    const id = await closedIncident('Kept', 3 * 24);
    tick();
    expect((await windowRow(id)).timeline).not.toBeNull();
    await fullBuild();
    const row = await windowRow(id);
    expect(row.timeline).toBeNull();
    expect(row.mark).toBeNull();
    expect(row.stretches).toEqual(await computed(id));
    expect(row.stretches!.some(([environment, status]) => environment === 'production' && status === 'red')).toBe(true);
    tick();
    await fullBuild();
  });

  it('a write to a kept incident, through a use case or typed into SQL, drops what was kept: the next full build reads its updates and keeps them again', async () => {
    const id = await closedIncident('Changed after it was kept', 4 * 24, 6);
    tick();
    await fullBuild();
    expect(await keptOf(id)).not.toBeNull();
    // hiding the update that turned production from red to yellow: red lasts longer
    const identified = (await q.visibleUpdatesOf(db, [id])).find((u) => u.state === 'identified')!;
    await incidents.hideUpdate(deps, { actor }, id, identified.id, { reason: 'Posted to the wrong incident.' });
    tick();
    expect(await keptOf(id)).toBeNull();
    expect((await windowRow(id)).timeline).not.toBeNull();
    await fullBuild();
    expect((await windowRow(id)).stretches).toEqual(await computed(id));
    // a fix typed into psql, which no use case sees: on an update, then on the incident's row
    await sql`update incident_updates set statuses = '{"development":"red"}' where incident_id = ${id} and state = 'investigating'`.execute(db);
    expect(await keptOf(id)).toBeNull();
    await fullBuild();
    expect(await keptOf(id)).not.toBeNull();
    await sql`update incidents set title = 'Renamed in psql' where id = ${id}`.execute(db);
    expect(await keptOf(id)).toBeNull();
    tick();
    const row = await windowRow(id);
    expect(row.timeline).not.toBeNull();
    const data = await fullBuild();
    const day = new Date(clock.now().getTime() - 4 * DAY).toISOString().slice(0, 10);
    expect(data.bars.find((b) => b.slug === 'development')!.days.find((d) => d.date === day)!.redSeconds).toBeGreaterThan(0);
    expect((await windowRow(id)).stretches).toEqual(await computed(id));
  });

  it('an incident closed in SQL while its last update is still active is not kept: its stretches grow with the clock', async () => {
    const opened = await open({ title: 'Closed by hand', message: 'Down.', at: ago(2 * HOUR), statuses: { production: 'red' } });
    await sql`update incidents set state = 'resolved', resolved_at = ${clock.now()} where id = ${opened.id}`.execute(db);
    try {
      tick();
      const first = await fullBuild();
      expect(await keptOf(opened.id)).toBeNull();
      tick(HOUR);
      const later = await fullBuild();
      const today = (d: PublicData) => d.bars.find((b) => b.slug === 'production')!.days.at(-1)!.redSeconds;
      expect(today(later)).toBeGreaterThan(today(first));
    } finally {
      // closed by its timeline again: the tests after this one compare builds made at different moments
      await post(opened.id, { message: 'Resolved.', state: 'resolved' });
      tick();
    }
  });

  it('stretches made of updates read at a mark the incident no longer has are not kept; at its mark, they are', async () => {
    const id = await closedIncident('Changed between the read and the write', 6 * 24);
    const { mark, timeline } = await windowRow(id);
    expect(timeline).not.toBeNull();
    await incidents.editIncident(deps, { actor }, id, { title: 'Renamed meanwhile' });
    await q.storeStretches(db, [[id, mark!, [['production', 'red', 1, 2]]]]);
    expect(await keptOf(id)).toBeNull();
    const now = await windowRow(id);
    expect(now.mark).not.toBe(mark);
    await q.storeStretches(db, [[id, now.mark!, await computed(id)]]);
    expect(await keptOf(id)).toEqual(await computed(id));
    tick();
    await fullBuild();
  });

  it('a failed write of the stretches fails nothing: the build has its data, and the next full build computes them again', async () => {
    const id = await closedIncident('Not kept: the disk is full', 7 * 24);
    tick();
    let refused = 0;
    const full: KyselyPlugin = {
      transformQuery: (args) => {
        if (args.node.kind === 'RawNode' && (args.node as RawNode).sqlFragments.join('').includes('insert into incident_stretches')) {
          refused++;
          throw new Error('could not extend file: No space left on device');
        }
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const builder = new PublicDataBuilder(db.withPlugin(full), config);
    const data = await builder.build(clock.now());
    await builder.stored;
    expect(refused).toBe(1);
    expect(data).toEqual(await referenceBuild(clock.now()));
    expect(await keptOf(id)).toBeNull();
    await fullBuild();
    expect((await windowRow(id)).stretches).toEqual(await computed(id));
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('a write whose transaction spans a build (Postgres)', () => {
  it('when a transaction began before a build and commits after it, the next build still reads what it changed', async () => {
    const id = (await open({ title: 'Slow commit', message: 'Looking.', statuses: { production: 'yellow' } })).id;
    tick();
    const builder = await builtBefore();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const hasXid = new Promise<void>((resolve) => (started = resolve));
    const writing = db.transaction().execute(async (trx) => {
      await currentTransactionId(trx); // the transaction has its id before the builds below
      started();
      await released;
      await q.updateIncident(trx, id, { title: 'Committed late', updated_at: clock.now() });
    });
    await hasXid;
    // a later transaction commits meanwhile: the running one is now older than the newest finished
    await open({ title: 'Committed meanwhile', message: 'Looking.' });
    tick();
    await builder.build(clock.now()); // the transaction is running: its id is at least this build's mark
    tick();
    await builder.build(clock.now());
    release();
    await writing;
    tick();
    // it, and the one committed meanwhile again: the mark cannot tell that one from the running one
    const data = await expectSameAsFull(builder, 2);
    expect(data.status.incidents.find((v) => v.id === id)?.title).toBe('Committed late');
    expect(data.status.incidents.map((v) => v.title)).toContain('Committed meanwhile');
  });

  it('when stretches are kept while a transaction changing that incident is open, the write waits for it and then keeps nothing', async () => {
    const id = await closedIncident('Changed while its stretches were kept', 8 * 24);
    const { mark } = await windowRow(id);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let changed!: () => void;
    const hasChanged = new Promise<void>((resolve) => (changed = resolve));
    const writing = db.transaction().execute(async (trx) => {
      await sql`update incident_updates set statuses = '{"development":"orange"}' where incident_id = ${id} and state = 'identified'`.execute(trx);
      changed();
      await released;
    });
    await hasChanged;
    let done = false;
    const keeping = q.storeStretches(db, [[id, mark!, [['production', 'red', 1, 2]]]]).finally(() => (done = true));
    // it waits on the open transaction's lock (or, were it not to, it is done)
    let waited = false;
    while (!waited && !done) {
      const r = await sql<{ n: number }>`select count(*)::int4 as n from pg_stat_activity where wait_event_type = 'Lock' and query like '%insert into incident_stretches%' and datname = current_database()`.execute(db);
      waited = r.rows[0]!.n > 0;
    }
    release();
    await writing;
    await keeping;
    expect(waited).toBe(true);
    expect(await keptOf(id)).toBeNull();
    tick();
    const now = clock.now();
    expect(await new PublicDataBuilder(db, config).build(now)).toEqual(await referenceBuild(now));
  });

  it('when a write is in flight during a build, that build does not show it and the next one does', async () => {
    const id = (await open({ title: 'In flight', message: 'Looking.', statuses: { production: 'yellow' } })).id;
    tick();
    const builder = await builtBefore();
    let wrote!: () => void;
    const written = new Promise<void>((resolve) => (wrote = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const writing = db.transaction().execute(async (trx) => {
      await q.updateIncident(trx, id, { title: 'Renamed in flight', updated_at: clock.now() });
      wrote();
      await released;
    });
    await written;
    tick();
    const during = await builder.build(clock.now());
    expect(during.status.incidents.find((v) => v.id === id)?.title).toBe('In flight');
    release();
    await writing;
    tick();
    const data = await expectSameAsFull(builder, 1);
    expect(data.status.incidents.find((v) => v.id === id)?.title).toBe('Renamed in flight');
  });
});
