import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { auditOf } from '../../src/db/queries/audit.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let admin: string;

beforeAll(async () => {
  handle = await freshDatabase();
  t = await testApp(handle);
  admin = await t.token(['admin']);
});
afterAll(async () => handle.close());

async function open(body: Record<string, unknown>) {
  const r = await t.call('POST', '/api/v1/incidents', { token: admin, body });
  expect(r.status).toBe(201);
  return r.body;
}

describe('commander API and incident JSON', () => {
  it('when an outage runs 3 h 41 min on production and 20 min read-only on web, the incident JSON says so', async () => {
    t.clock.set(T0);
    const inc = await open({ title: 'Elevated API errors', message: 'Investigating **5xx** from the API.', statuses: { production: 'red' }, modes: { web: 'read_only' } });
    t.clock.set(at(20 * MIN));
    await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { state: 'identified', message: 'A bad deploy; rolling back.', modes: { web: 'full' }, statuses: { production: 'yellow' } } });
    t.clock.set(at(3 * HOUR + 41 * MIN));
    const resolved = await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { state: 'resolved', message: 'Fixed.' } });
    expect(resolved.status).toBe(201);
    expect(resolved.body.update.state).toBe('resolved');

    t.clock.set(at(10 * HOUR)); // later reads do not grow a closed incident
    const r = await t.call('GET', `/api/v1/incidents/${inc.id}`);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('resolved');
    expect(r.body.open).toBe(false);
    expect(r.body.started_at).toBe(T0);
    expect(r.body.resolved_at).toBe(at(3 * HOUR + 41 * MIN));
    const prod = r.body.scope_of_impact.environments[0];
    // red 10:00–10:20 (20 min), yellow 10:20–13:41 (3 h 21 min)
    expect(prod).toEqual({
      environment: 'production',
      impaired_seconds: (3 * 60 + 41) * 60,
      impaired: '3 hours 41 minutes',
      red_seconds: 20 * 60,
      yellow_seconds: (3 * 60 + 21) * 60,
      orange_seconds: 0,
      blue_seconds: 0,
    });
    expect(r.body.scope_of_impact.environments[1]).toMatchObject({ environment: 'development', impaired_seconds: 0 });
    expect(r.body.scope_of_impact.roles[0]).toEqual({ role: 'web', read_only_seconds: 20 * 60, maintenance_seconds: 0, read_only: '20 minutes', maintenance: '0 seconds' });
    expect(r.body.updates.map((u: any) => u.state)).toEqual(['resolved', 'identified', 'investigating']);
    expect(r.body.updates[2].message).toBe('Investigating **5xx** from the API.');
    expect(r.body.url).toBe(`https://status.example.com/incidents/${inc.id}`);
  });

  it('when an incident is open, its impact counts up to now and the status shows the worst environment colour', async () => {
    t.clock.set(at(20 * HOUR));
    const a = await open({ title: 'Slow builds', message: 'Builds are slow.', statuses: { development: 'yellow' } });
    const b = await open({ title: 'Dev outage', message: 'Dev is down.', statuses: { development: 'red' } });
    t.clock.set(at(20 * HOUR + 90 * MIN));
    const s = await t.call('GET', '/api/v1/status');
    expect(s.body.environments).toEqual([
      { slug: 'production', name: 'Production', status: 'green' },
      { slug: 'development', name: 'Development', status: 'red' },
    ]);
    expect(s.body.incidents.map((i: any) => i.id).sort()).toEqual([a.id, b.id].sort());
    const one = await t.call('GET', `/api/v1/incidents/${a.id}`);
    expect(one.body.scope_of_impact.environments[1]).toMatchObject({ environment: 'development', yellow_seconds: 90 * 60, impaired: '1 hour 30 minutes' });
    for (const id of [a.id, b.id]) {
      await t.call('POST', `/api/v1/incidents/${id}/updates`, { token: admin, body: { state: 'resolved', message: 'ok' } });
    }
    const after = await t.call('GET', '/api/v1/status');
    expect(after.body.environments.map((e: any) => e.status)).toEqual(['green', 'green']);
    expect(after.body.incidents).toEqual([]);
  });

  it('when an update is backdated between two others, the timeline and state follow at, not insertion', async () => {
    t.clock.set(at(30 * HOUR));
    const inc = await open({ title: 'Backdated', message: 'start', at: at(29 * HOUR), statuses: { production: 'red' } });
    await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { state: 'monitoring', message: 'monitoring', statuses: { production: 'yellow' } } });
    // inserted last, but happened at 29:30 — between the two
    const mid = await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { state: 'identified', message: 'found it', at: at(29 * HOUR + 30 * MIN) } });
    expect(mid.status).toBe(201);
    const r = await t.call('GET', `/api/v1/incidents/${inc.id}`);
    expect(r.body.updates.map((u: any) => u.message)).toEqual(['monitoring', 'found it', 'start']);
    expect(r.body.state).toBe('monitoring');
    // red 29:00–30:00 (the backdated update names no status), yellow 30:00–now(30:00) = 0
    expect(r.body.scope_of_impact.environments[0]).toMatchObject({ red_seconds: 3600, yellow_seconds: 0 });
  });

  it('when a backdated update without a state is posted, it takes the state in force at its time', async () => {
    t.clock.set(at(40 * HOUR));
    const inc = await open({ title: 'Inherit', message: 'a', at: at(38 * HOUR) });
    await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { state: 'monitoring', message: 'b', at: at(39 * HOUR) } });
    const r = await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { message: 'c', at: at(38 * HOUR + 30 * MIN) } });
    expect(r.body.update.state).toBe('investigating');
    expect(r.body.incident.state).toBe('monitoring');
  });

  it('when an impact is given at opening or set later it is kept and audited; null derives it again; a wrong one is a 400 naming it', async () => {
    t.clock.set(at(45 * HOUR));
    const opened = await t.call('POST', '/api/v1/incidents', { token: admin, body: { title: 'Rated', message: 'x', impact: 'major' } });
    expect(opened.status).toBe(201);
    expect(opened.body.impact).toBe('major');
    const set = await t.call('PATCH', `/api/v1/incidents/${opened.body.id}`, { token: admin, body: { impact: 'critical' } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ title: 'Rated', impact: 'critical' });
    const cleared = await t.call('PATCH', `/api/v1/incidents/${opened.body.id}`, { token: admin, body: { impact: null } });
    expect(cleared.body.impact).toBeNull();
    const audit = await t.db.selectFrom('audit_log').select(['action', 'before', 'after']).where('target', '=', `incident:${opened.body.id}`).where('action', '=', 'incident.impact').orderBy('id').execute();
    expect(audit.map((a) => [a.before, a.after])).toEqual([
      [{ impact: 'major' }, { impact: 'critical' }],
      [{ impact: 'critical' }, { impact: null }],
    ]);
    const wrong = await t.call('PATCH', `/api/v1/incidents/${opened.body.id}`, { token: admin, body: { impact: 'huge' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors).toEqual([{ path: 'impact', message: 'must be one of none, minor, major, critical' }]);
    const empty = await t.call('PATCH', `/api/v1/incidents/${opened.body.id}`, { token: admin, body: {} });
    expect(empty.status).toBe(400);
    expect(JSON.stringify(empty.body.errors)).toContain('give title or impact');
  });

  it('when a title is edited and a postmortem written and published, each is audited and the postmortem appears only once published', async () => {
    t.clock.set(at(50 * HOUR));
    const inc = await open({ title: 'Old title', message: 'x' });
    const edit = await t.call('PATCH', `/api/v1/incidents/${inc.id}`, { token: admin, body: { title: 'New title' } });
    expect(edit.status).toBe(200);
    expect(edit.body.title).toBe('New title');
    const pm = await t.call('PUT', `/api/v1/incidents/${inc.id}/postmortem`, { token: admin, body: { markdown: '# What happened\nA cable.' } });
    expect(pm.body).toMatchObject({ markdown: '# What happened\nA cable.', published_at: null });
    expect((await t.call('GET', `/api/v1/incidents/${inc.id}`)).body.postmortem).toBeNull();
    const early = await t.call('POST', `/api/v1/incidents/${inc.id}/postmortem/publish`, { token: admin });
    expect(early.status).toBe(409);
    expect(early.body.id).toBe('conflict');
    await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { state: 'resolved', message: 'done' } });
    t.clock.set(at(51 * HOUR));
    const pub = await t.call('POST', `/api/v1/incidents/${inc.id}/postmortem/publish`, { token: admin });
    expect(pub.status).toBe(200);
    expect(pub.body.published_at).toBe(at(51 * HOUR));
    expect((await t.call('GET', `/api/v1/incidents/${inc.id}`)).body.postmortem).toEqual({ markdown: '# What happened\nA cable.', published_at: at(51 * HOUR) });
    const audit = await auditOf(t.db, `incident:${inc.id}`);
    expect(audit.map((a) => a.action)).toEqual(['incident.create', 'incident.title', 'postmortem.write', 'update.create', 'postmortem.publish']);
    expect(audit[1]!.before).toEqual({ title: 'Old title' });
    expect(audit[1]!.after).toEqual({ title: 'New title' });
  });

  it('when an update is hidden with a reason, it leaves the timeline and the durations but stays in the audit', async () => {
    t.clock.set(at(60 * HOUR));
    const inc = await open({ title: 'Hide me', message: 'real', statuses: { production: 'yellow' } });
    t.clock.set(at(60 * HOUR + 10 * MIN));
    const wrong = await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { message: 'posted to the wrong incident', statuses: { production: 'red' } } });
    t.clock.set(at(60 * HOUR + 30 * MIN));
    const before = await t.call('GET', `/api/v1/incidents/${inc.id}`);
    expect(before.body.scope_of_impact.environments[0]).toMatchObject({ yellow_seconds: 600, red_seconds: 1200 });
    const hide = await t.call('POST', `/api/v1/incidents/${inc.id}/updates/${wrong.body.update.id}/hide`, { token: admin, body: { reason: 'wrong incident' } });
    expect(hide.status).toBe(200);
    expect(hide.body.updates.map((u: any) => u.message)).toEqual(['real']);
    expect(hide.body.scope_of_impact.environments[0]).toMatchObject({ yellow_seconds: 1800, red_seconds: 0 });
    const again = await t.call('POST', `/api/v1/incidents/${inc.id}/updates/${wrong.body.update.id}/hide`, { token: admin, body: { reason: 'twice' } });
    expect(again.status).toBe(409);
    const audit = await auditOf(t.db, `incident:${inc.id}`);
    expect(audit.at(-1)).toMatchObject({ action: 'update.hide', after: expect.objectContaining({ reason: 'wrong incident' }) });
    await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { state: 'resolved', message: 'ok' } });
  });
});

describe('tokens', () => {
  it('when a token is created, only its hash is stored, it works until revoked, and then it gets 401', async () => {
    const created = await t.call('POST', '/api/v1/tokens', { token: admin, body: { name: 'ci-bot', scopes: ['incidents:write'] } });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const secret: string = created.body.token;
    expect(secret).toMatch(/^hrd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const row = await t.db.selectFrom('api_tokens').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(secret.slice(17));
    const { createHash } = await import('node:crypto');
    expect(row.secret_sha256).toBe(createHash('sha256').update(secret.slice(17)).digest('hex'));

    t.clock.set(at(70 * HOUR));
    const ok = await t.call('POST', '/api/v1/incidents', { token: secret, body: { title: 'by bot', message: 'm' } });
    expect(ok.status).toBe(201);
    expect(ok.body.updates[0].author).toBe('ci-bot');
    await t.call('POST', `/api/v1/incidents/${ok.body.id}/updates`, { token: secret, body: { state: 'resolved', message: 'm' } });
    const forbidden = await t.call('GET', '/api/v1/tokens', { token: secret });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.id).toBe('forbidden');
    const list = await t.call('GET', '/api/v1/tokens', { token: admin });
    expect(list.body.map((x: any) => x.name)).toContain('ci-bot');
    expect(JSON.stringify(list.body)).not.toContain('secret');
    const revoked = await t.call('DELETE', `/api/v1/tokens/${created.body.id}`, { token: admin });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toBe(at(70 * HOUR));
    const denied = await t.call('POST', '/api/v1/incidents', { token: secret, body: { title: 'x', message: 'm' } });
    expect(denied.status).toBe(401);
    expect(denied.body.id).toBe('unauthorized');
  });
});

describe('idempotency and concurrency', () => {
  it('when a POST is retried with the same Idempotency-Key, the first result comes back and nothing is written twice', async () => {
    t.clock.set(at(80 * HOUR));
    const inc = await open({ title: 'Retry', message: 'first' });
    const body = { state: 'identified', message: 'retry me' };
    const headers = { 'idempotency-key': 'update-42' };
    const first = await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body, headers });
    t.clock.set(at(80 * HOUR + MIN));
    const second = await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body, headers });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    const r = await t.call('GET', `/api/v1/incidents/${inc.id}`);
    expect(r.body.updates.filter((u: any) => u.message === 'retry me')).toHaveLength(1);
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { message: 'racing' }, headers: { 'idempotency-key': 'race-1' } })),
    );
    expect(concurrent.map((c) => c.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(concurrent.map((c) => c.body.update.id)).size).toBe(1);
    const r2 = await t.call('GET', `/api/v1/incidents/${inc.id}`);
    expect(r2.body.updates.filter((u: any) => u.message === 'racing')).toHaveLength(1);
    await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { state: 'resolved', message: 'm' } });
  });

  it('when 50 updates are posted at once to one incident, all land once each, in at order', async () => {
    t.clock.set(at(100 * HOUR));
    const inc = await open({ title: 'Burst', message: 'start', at: at(90 * HOUR) });
    // at values shuffled against posting order: update k happened at 90 h + k minutes
    const order = Array.from({ length: 50 }, (_, i) => (i * 37) % 50);
    const results = await Promise.all(
      order.map((k) =>
        t.call('POST', `/api/v1/incidents/${inc.id}/updates`, {
          token: admin,
          body: { state: k === 49 ? 'monitoring' : 'identified', message: `update ${k}`, at: at(90 * HOUR + (k + 1) * MIN) },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(201));
    const r = await t.call('GET', `/api/v1/incidents/${inc.id}`);
    expect(r.body.updates).toHaveLength(51);
    expect(r.body.updates.map((u: any) => u.message)).toEqual([...Array.from({ length: 50 }, (_, i) => `update ${49 - i}`), 'start']);
    expect(r.body.state).toBe('monitoring');
    await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { state: 'resolved', message: 'm' } });
  });
});

describe('lists and Heroku shapes', () => {
  it('when incidents are inserted while a client pages, the pages it already has neither repeat nor skip', async () => {
    // seven incidents: three pages of three at most before one more is inserted
    t.clock.set(at(150 * HOUR));
    const paged = [];
    for (let n = 1; n <= 7; n++) paged.push(await open({ title: `Paged ${n}`, message: 'm', at: at(140 * HOUR + n * MIN) }));
    const seen: number[] = [];
    let next = '/api/v1/incidents?limit=3';
    let inserted = false;
    while (next) {
      const page = await t.call('GET', next.replace('https://status.example.com', ''));
      expect(page.status).toBe(200);
      seen.push(...page.body.incidents.map((i: any) => i.id));
      if (!inserted) {
        t.clock.set(at(200 * HOUR));
        await open({ title: 'Inserted while paging', message: 'new' });
        inserted = true;
      }
      next = page.body.next ?? '';
      if (next) expect(page.headers.get('link')).toBe(`<${page.body.next}>; rel="next"`);
    }
    const all = (await t.db.selectFrom('incidents').select('id').orderBy('started_at', 'desc').orderBy('id', 'desc').execute()).map((r) => r.id);
    const newest = all[0]!;
    expect(seen).toEqual(all.filter((id) => id !== newest));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(paged.map((i) => i.id)));
    for (const id of [...paged.map((i) => i.id), newest]) {
      await t.call('POST', `/api/v1/incidents/${id}/updates`, { token: admin, body: { state: 'resolved', message: 'm' } });
    }
  });

  it('when a list query is wrong, every problem is listed', async () => {
    const r = await t.call('GET', '/api/v1/incidents?limit=0&state=maybe&cursor=zzz');
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: any) => e.path).sort()).toEqual(['cursor', 'limit', 'state']);
    const c = await t.call('GET', '/api/v1/incidents?cursor=zzz');
    expect(c.body.errors).toEqual([{ path: 'cursor', message: 'is not a cursor this server gave out' }]);
  });

  it('when an incident is open, Heroku v3 and v4 show it in their published shapes', async () => {
    t.clock.set(at(300 * HOUR));
    const leftovers = await t.call('GET', '/api/v1/incidents?state=open&limit=100');
    for (const i of leftovers.body.incidents) {
      await t.call('POST', `/api/v1/incidents/${i.id}/updates`, { token: admin, body: { state: 'resolved', message: 'closing before the Heroku checks' } });
    }
    const inc = await open({ title: 'Router latency', message: 'Looking.', statuses: { production: 'yellow', development: 'red' } });
    t.clock.set(at(300 * HOUR + 5 * MIN));
    await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { state: 'identified', message: 'Found.', statuses: { development: 'green' } } });

    const v3 = await t.call('GET', '/api/v3/current-status');
    expect(v3.body.status).toEqual({ Production: 'yellow', Development: 'green' });
    const issue = v3.body.issues.find((i: any) => i.id === inc.id);
    expect(issue).toMatchObject({
      title: 'Router latency',
      resolved: false,
      upcoming: false,
      status_prod: 'yellow',
      status_dev: 'green',
      full_url: `https://status.example.com/incidents/${inc.id}`,
      href: `https://status.example.com/api/v3/issues/${inc.id}`,
      created_at: at(300 * HOUR),
    });
    expect(issue.updates.map((u: any) => [u.update_type, u.contents, u.status_prod, u.status_dev])).toEqual([
      ['identified', 'Found.', 'yellow', 'green'],
      ['investigating', 'Looking.', 'yellow', 'red'],
    ]);
    expect(issue.updates[0]).toMatchObject({ incident_id: inc.id, created_at: at(300 * HOUR + 5 * MIN), title: 'Router latency' });

    const one = await t.call('GET', `/api/v3/issues/${inc.id}`);
    expect(one.body.id).toBe(inc.id);
    const since = await t.call('GET', `/api/v3/issues?since=${at(300 * HOUR).slice(0, 10)}&limit=10`);
    expect(since.body.map((i: any) => i.id)).toEqual([inc.id]);
    expect((await t.call('GET', '/api/v3/issues/999999')).status).toBe(404);

    const v4 = await t.call('GET', '/api/v4/current-status');
    expect(v4.body.status).toEqual([
      { system: 'Production', status: 'yellow' },
      { system: 'Development', status: 'green' },
    ]);
    expect(v4.body.incidents).toHaveLength(1);
    expect(v4.body.incidents[0]).toMatchObject({ title: 'Router latency', created_at: at(300 * HOUR), full_url: `https://status.example.com/incidents/${inc.id}` });
    expect(v4.body.incidents[0].updates).toEqual([
      { id: expect.any(Number), update_type: 'identified', updated_at: at(300 * HOUR + 5 * MIN), created_at: at(300 * HOUR + 5 * MIN), contents: 'Found.' },
      { id: expect.any(Number), update_type: 'investigating', updated_at: at(300 * HOUR), created_at: at(300 * HOUR), contents: 'Looking.' },
    ]);
    expect(v4.body.scheduled).toEqual([]);
    await t.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: admin, body: { state: 'resolved', message: 'm' } });
  });
});

describe('health', () => {
  it('when the database is migrated, /healthz and /readyz say so', async () => {
    expect((await t.call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const r = await t.call('GET', '/readyz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ready' });
  });

  it('when a route does not exist, the 404 has the error shape', async () => {
    const r = await t.call('GET', '/api/v1/nope');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ id: 'not_found', code: 'request.no_route', message: 'Nothing at GET /api/v1/nope.' });
  });
});
