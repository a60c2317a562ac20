/**
 * Bad input gets a clear error and nothing changes.
 *
 * Every write endpoint is sent malformed, mistyped, unknown, out-of-range, unauthenticated and
 * unauthorised requests. Each answer must carry the right status, Heroku's error shape
 * `{id, message}` with a human sentence (plus `errors: [{path, message}]` listing every problem
 * for an invalid body), never a 500, and leave every table exactly as it was; and no test's log
 * lines hold a token secret or an unhandled error (checked after each test).
 *
 * The fixtures made once in beforeAll are only read: a test that must write makes its own incident.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { ERROR_CODES, type ErrorCode } from '../../src/errors.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';

type TestApp = Awaited<ReturnType<typeof testApp>>;
type Res = Awaited<ReturnType<TestApp['call']>>;

const TABLES = ['incidents', 'incident_updates', 'api_tokens', 'idempotency_keys', 'audit_log'] as const;
const MIN = 60_000;
const iso = (ms: number) => new Date(new Date(T0).getTime() + ms).toISOString();

let handle: DatabaseHandle;
let t: TestApp;

/** Tokens minted by the setup; every secret is checked against the logs at the end. */
const tok = { admin: '', writer: '', maint: '', revoked: '', spare: '' };
const secrets: string[] = [];

/** Fixtures made by the setup. */
let openId = 0; // an open incident with two visible updates
let openUpdateIds: number[] = [];
let closedId = 0; // a resolved incident with an unpublished postmortem
let closedUpdateId = 0;
let maintenanceId = 0; // a scheduled maintenance
let spareTokenId = 0; // an admin token nobody revokes

// ---------------------------------------------------------------------------------------------
// helpers

async function snapshot() {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    const r = await sql<{ n: number }>`select count(*)::int4 as n from ${sql.table(table)}`.execute(t.db);
    counts[table] = r.rows[0]!.n;
  }
  return {
    counts,
    incidents: await t.db.selectFrom('incidents').selectAll().orderBy('id').execute(),
    updates: await t.db.selectFrom('incident_updates').selectAll().orderBy('id').execute(),
    // last_used_at moves on authentication; that is bookkeeping, not a change by the request.
    tokens: await t.db.selectFrom('api_tokens').select(['id', 'key_id', 'name', 'secret_sha256', 'scopes', 'revoked_at']).orderBy('id').execute(),
    keys: await t.db.selectFrom('idempotency_keys').select(['token_id', 'key', 'fingerprint', 'status', 'body']).orderBy('token_id').orderBy('key').execute(),
    audit: await t.db.selectFrom('audit_log').select(['id', 'action', 'target']).orderBy('id').execute(),
  };
}

/** Runs `request`, checks it with `check`, and asserts that no table changed. */
async function unchanged(request: () => Promise<Res>, check: (res: Res) => void): Promise<Res> {
  const before = await snapshot();
  const res = await request();
  check(res);
  const after = await snapshot();
  expect(after.counts, 'row counts changed').toEqual(before.counts);
  expect(after, 'data changed').toEqual(before);
  return res;
}

/** No log line holds a token secret (whole or its secret part) or an unhandled error. */
function expectCleanLogs(lines: readonly string[]) {
  const all = lines.join('\n');
  expect(all).not.toContain('hrd_');
  for (const s of secrets) {
    expect(all).not.toContain(s);
    expect(all).not.toContain(s.slice(-43));
  }
  expect(lines.filter((l) => /unhandled|level=error/.test(l))).toEqual([]);
}

/** An open incident of the test's own, for a test whose request is meant to succeed. */
async function ownIncident(): Promise<number> {
  const r = await t.call('POST', '/api/v1/incidents', { token: tok.writer, body: { title: 'Scratch', message: 'Made by this test.' } });
  expect(r.status).toBe(201);
  return r.body.id;
}

function expectHumanSentence(message: unknown) {
  expect(typeof message).toBe('string');
  const s = message as string;
  expect(s.length).toBeGreaterThanOrEqual(10);
  expect(s).toMatch(/^[A-Z"]/);
  expect(s).toMatch(/[.!?]$/);
  expect(s).toMatch(/ /);
  expect(s).not.toMatch(/\n\s+at |TypeError|SyntaxError|ZodError|undefined|\[object Object\]/);
}

/** The status, the error shape, a human sentence, and for invalid_params a well-formed problem list. */
function expectError(res: Res, status: number, id?: string) {
  expect(res.status, `expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`).not.toBe(500);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  expect(res.body).toBeTypeOf('object');
  expect(res.body).not.toBeNull();
  expect(Object.keys(res.body).sort().filter((k) => k !== 'errors')).toEqual(['code', 'id', 'message']);
  expect(res.body.id).toMatch(/^[a-z_]+$/);
  if (id) expect(res.body.id).toBe(id);
  // the area's code, listed in ERROR_CODES with the same generic id
  expect(ERROR_CODES[res.body.code as ErrorCode]?.[0], `code ${res.body.code}`).toBe(res.body.id);
  expectHumanSentence(res.body.message);
  if (res.body.errors !== undefined || res.body.id === 'invalid_params') {
    expect(Array.isArray(res.body.errors)).toBe(true);
    expect(res.body.errors.length).toBeGreaterThan(0);
    for (const e of res.body.errors) {
      expect(Object.keys(e).sort()).toEqual(['message', 'path']);
      expect(typeof e.path).toBe('string');
      expect(e.path.length).toBeGreaterThan(0);
      expect(typeof e.message).toBe('string');
      expect(e.message.trim().length).toBeGreaterThan(2);
    }
  }
}

/** An invalid body: 400 invalid_params naming each of `paths` (an unknown field may be named in the message). */
function expectInvalid(res: Res, paths: readonly string[]) {
  expectError(res, 400, 'invalid_params');
  const errors = res.body.errors as { path: string; message: string }[];
  for (const p of paths) {
    const named = errors.some((e) => e.path === p || (e.path === '(body)' && new RegExp(`\\b${p}\\b`).test(e.message)));
    expect(named, `no problem listed for "${p}" in ${JSON.stringify(errors)}`).toBe(true);
  }
}

/** The endpoints that read a body, each with a body it would accept, so one field can be spoilt at a time. */
interface BodyEndpoint {
  readonly name: string;
  readonly method: string;
  path(): string;
  token(): string;
  valid(): Record<string, unknown>;
}

const bodyEndpoints: BodyEndpoint[] = [
  { name: 'POST /api/v1/incidents', method: 'POST', path: () => '/api/v1/incidents', token: () => tok.writer, valid: () => ({ title: 'Elevated errors', message: 'We are looking into it.' }) },
  { name: 'POST /api/v1/incidents/:id/updates', method: 'POST', path: () => `/api/v1/incidents/${openId}/updates`, token: () => tok.writer, valid: () => ({ message: 'Still looking.' }) },
  { name: 'PATCH /api/v1/incidents/:id', method: 'PATCH', path: () => `/api/v1/incidents/${openId}`, token: () => tok.writer, valid: () => ({ title: 'A better title' }) },
  { name: 'PUT /api/v1/incidents/:id/postmortem', method: 'PUT', path: () => `/api/v1/incidents/${closedId}/postmortem`, token: () => tok.writer, valid: () => ({ markdown: '# What happened' }) },
  { name: 'POST /api/v1/incidents/:id/postmortem/publish', method: 'POST', path: () => `/api/v1/incidents/${closedId}/postmortem/publish`, token: () => tok.writer, valid: () => ({}) },
  { name: 'POST /api/v1/incidents/:id/updates/:updateId/hide', method: 'POST', path: () => `/api/v1/incidents/${openId}/updates/${openUpdateIds[1]}/hide`, token: () => tok.writer, valid: () => ({ reason: 'Posted to the wrong incident.' }) },
  { name: 'POST /api/v1/tokens', method: 'POST', path: () => '/api/v1/tokens', token: () => tok.admin, valid: () => ({ name: 'ci', scopes: ['incidents:write'] }) },
];

/** Every write endpoint, with the scope-appropriate token and a body it would accept. */
const writeEndpoints: BodyEndpoint[] = [
  ...bodyEndpoints,
  { name: 'DELETE /api/v1/tokens/:id', method: 'DELETE', path: () => `/api/v1/tokens/${spareTokenId}`, token: () => tok.admin, valid: () => ({}) },
];

function send(e: BodyEndpoint, options: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string>; path?: string } = {}) {
  const token = options.token === null ? undefined : (options.token ?? e.token());
  const hasBody = 'body' in options || 'raw' in options;
  return t.call(e.method, options.path ?? e.path(), {
    ...(token ? { token } : {}),
    ...(options.raw !== undefined ? { raw: options.raw } : {}),
    ...(hasBody && options.raw === undefined ? { body: options.body } : !hasBody && e.method !== 'DELETE' ? { body: e.valid() } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
  });
}

const byName = (name: string) => bodyEndpoints.find((e) => e.name === name)!;
const createIncident = byName('POST /api/v1/incidents');
const postUpdate = byName('POST /api/v1/incidents/:id/updates');
const editIncident = byName('PATCH /api/v1/incidents/:id');
const writePostmortem = byName('PUT /api/v1/incidents/:id/postmortem');
const hideUpdate = byName('POST /api/v1/incidents/:id/updates/:updateId/hide');
const createToken = byName('POST /api/v1/tokens');

// ---------------------------------------------------------------------------------------------
// setup

beforeAll(async () => {
  handle = await freshDatabase();
  t = await testApp(handle);
  tok.admin = await t.token(['admin'], 'admin');
  tok.writer = await t.token(['incidents:write'], 'writer');
  tok.maint = await t.token(['maintenance:write'], 'maint');
  secrets.push(tok.admin, tok.writer, tok.maint);

  // A token made and revoked through the API, and a spare one made through the API.
  const made = await t.call('POST', '/api/v1/tokens', { token: tok.admin, body: { name: 'to-revoke', scopes: ['admin'] } });
  expect(made.status).toBe(201);
  tok.revoked = made.body.token;
  secrets.push(tok.revoked);
  expect((await t.call('DELETE', `/api/v1/tokens/${made.body.id}`, { token: tok.admin })).status).toBe(200);
  const spare = await t.call('POST', '/api/v1/tokens', { token: tok.admin, body: { name: 'spare', scopes: ['admin'] } });
  expect(spare.status).toBe(201);
  tok.spare = spare.body.token;
  spareTokenId = spare.body.id;
  secrets.push(tok.spare);

  // An open incident with two updates.
  const open = await t.call('POST', '/api/v1/incidents', {
    token: tok.writer,
    body: { title: 'API errors', message: 'Investigating.', statuses: { production: 'red' }, modes: { web: 'read_only' }, at: iso(-60 * MIN) },
  });
  expect(open.status).toBe(201);
  openId = open.body.id;
  const second = await t.call('POST', `/api/v1/incidents/${openId}/updates`, { token: tok.writer, body: { state: 'identified', message: 'Found it.', at: iso(-30 * MIN) } });
  expect(second.status).toBe(201);
  openUpdateIds = [open.body.updates[0].id, second.body.update.id];

  // A resolved incident with a postmortem written but not published.
  const closed = await t.call('POST', '/api/v1/incidents', { token: tok.writer, body: { title: 'Slow builds', message: 'Looking.', statuses: { development: 'yellow' }, at: iso(-120 * MIN) } });
  expect(closed.status).toBe(201);
  closedId = closed.body.id;
  closedUpdateId = closed.body.updates[0].id;
  expect((await t.call('POST', `/api/v1/incidents/${closedId}/updates`, { token: tok.writer, body: { state: 'resolved', message: 'Fixed.', at: iso(-90 * MIN) } })).status).toBe(201);
  expect((await t.call('PUT', `/api/v1/incidents/${closedId}/postmortem`, { token: tok.writer, body: { markdown: 'It was DNS.' } })).status).toBe(200);

  // A scheduled maintenance (no HTTP route makes one yet: straight into the tables).
  const m = await t.db
    .insertInto('incidents')
    .values({
      kind: 'maintenance', title: 'Database upgrade', state: 'scheduled', started_at: new Date(iso(-10 * MIN)), resolved_at: null,
      updated_at: new Date(iso(-10 * MIN)), created_at: new Date(iso(-10 * MIN)), created_by: 'test',
      scheduled_for: new Date(iso(24 * 60 * MIN)), scheduled_until: new Date(iso(28 * 60 * MIN)), required_by: null,
      postmortem: null, postmortem_updated_at: null, postmortem_published_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  maintenanceId = m.id;
  await t.db
    .insertInto('incident_updates')
    .values({ incident_id: maintenanceId, at: new Date(iso(-10 * MIN)), created_at: new Date(iso(-10 * MIN)), state: 'scheduled', message: 'Scheduled.', statuses: '{}', modes: '{}', author: 'test' })
    .execute();
  expectCleanLogs(t.logs);
});

/** Each test's own log lines (from here to afterEach) hold no secret and no unhandled error. */
let logsBefore = 0;
beforeEach(() => {
  logsBefore = t.logs.length;
});
afterEach(() => {
  expectCleanLogs(t.logs.slice(logsBefore));
});

afterAll(async () => {
  await handle?.close();
});

// ---------------------------------------------------------------------------------------------
// bodies that are not JSON objects

describe('bodies that are not a JSON object', () => {
  const rawBodies: [string, string][] = [
    ['malformed JSON', '{"title":'],
    ['a trailing comma', '{"title": "x",}'],
    ['a JSON array', '[{"title":"x","message":"y"}]'],
    ['an empty JSON array', '[]'],
    ['a JSON string', '"title"'],
    ['JSON null', 'null'],
    ['a JSON number', '42'],
    ['JSON true', 'true'],
    ['form encoding', 'title=x&message=y'],
  ];
  for (const e of bodyEndpoints) {
    for (const [what, raw] of rawBodies) {
      it(`when ${e.name} gets ${what}, it answers 400 bad_request and changes nothing`, async () => {
        await unchanged(() => send(e, { raw }), (res) => expectError(res, 400, 'bad_request'));
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
// one problem at a time

type Case = [what: string, endpoint: () => BodyEndpoint, body: () => Record<string, unknown>, paths: string[]];

const spoil = (e: BodyEndpoint, patch: Record<string, unknown>) => () => ({ ...e.valid(), ...patch });
const without = (e: BodyEndpoint, key: string) => () => {
  const b = { ...e.valid() };
  delete b[key];
  return b;
};

const longTitle = 'x'.repeat(201);

const cases: Case[] = [
  // missing fields
  ['an empty object', () => createIncident, () => ({}), ['title', 'message']],
  ['no message', () => createIncident, without(createIncident, 'message'), ['message']],
  ['no message', () => postUpdate, () => ({}), ['message']],
  ['no title', () => editIncident, () => ({}), ['title']],
  ['no markdown', () => writePostmortem, () => ({}), ['markdown']],
  ['no reason', () => hideUpdate, () => ({}), ['reason']],
  ['no scopes', () => createToken, without(createToken, 'scopes'), ['scopes']],
  // wrong types
  ['title: 42', () => createIncident, spoil(createIncident, { title: 42 }), ['title']],
  ['title: null', () => createIncident, spoil(createIncident, { title: null }), ['title']],
  ['message: ["a"]', () => createIncident, spoil(createIncident, { message: ['a'] }), ['message']],
  ['statuses: "red"', () => createIncident, spoil(createIncident, { statuses: 'red' }), ['statuses']],
  ['statuses: ["red"]', () => createIncident, spoil(createIncident, { statuses: ['red'] }), ['statuses']],
  ['modes: [1]', () => createIncident, spoil(createIncident, { modes: [1] }), ['modes']],
  ['modes: "read_only"', () => createIncident, spoil(createIncident, { modes: 'read_only' }), ['modes']],
  ['at: 12345', () => createIncident, spoil(createIncident, { at: 12345 }), ['at']],
  ['state: 3', () => createIncident, spoil(createIncident, { state: 3 }), ['state']],
  ['statuses: "red"', () => postUpdate, spoil(postUpdate, { statuses: 'red' }), ['statuses']],
  ['modes: [1]', () => postUpdate, spoil(postUpdate, { modes: [1] }), ['modes']],
  ['at: 12345', () => postUpdate, spoil(postUpdate, { at: 12345 }), ['at']],
  ['state: 42', () => postUpdate, spoil(postUpdate, { state: 42 }), ['state']],
  ['message: null', () => postUpdate, spoil(postUpdate, { message: null }), ['message']],
  ['title: 42', () => editIncident, spoil(editIncident, { title: 42 }), ['title']],
  ['markdown: 42', () => writePostmortem, spoil(writePostmortem, { markdown: 42 }), ['markdown']],
  ['reason: false', () => hideUpdate, spoil(hideUpdate, { reason: false }), ['reason']],
  ['scopes: "admin"', () => createToken, spoil(createToken, { scopes: 'admin' }), ['scopes']],
  ['scopes: [1]', () => createToken, spoil(createToken, { scopes: [1] }), ['scopes.0']],
  ['name: 42', () => createToken, spoil(createToken, { name: 42 }), ['name']],
  // unknown fields (typos)
  ['the typo "satuses"', () => createIncident, spoil(createIncident, { satuses: { production: 'red' } }), ['satuses']],
  ['the typo "satuses"', () => postUpdate, spoil(postUpdate, { satuses: { production: 'red' } }), ['satuses']],
  ['the typo "titel"', () => editIncident, spoil(editIncident, { titel: 'x' }), ['titel']],
  ['the typo "markdwon"', () => writePostmortem, spoil(writePostmortem, { markdwon: 'x' }), ['markdwon']],
  ['an unknown field "force"', () => byName('POST /api/v1/incidents/:id/postmortem/publish'), () => ({ force: true }), ['force']],
  ['the typo "reasn"', () => hideUpdate, spoil(hideUpdate, { reasn: 'x' }), ['reasn']],
  ['the typo "scope"', () => createToken, spoil(createToken, { scope: ['admin'] }), ['scope']],
  // unknown environments, roles and values
  ['statuses: {staging: "red"}', () => createIncident, spoil(createIncident, { statuses: { staging: 'red' } }), ['statuses.staging']],
  ['modes: {deploy: "read_only"}', () => createIncident, spoil(createIncident, { modes: { deploy: 'read_only' } }), ['modes.deploy']],
  ['statuses: {production: "purple"}', () => createIncident, spoil(createIncident, { statuses: { production: 'purple' } }), ['statuses.production']],
  ['modes: {web: "off"}', () => createIncident, spoil(createIncident, { modes: { web: 'off' } }), ['modes.web']],
  ['statuses: {production: null}', () => createIncident, spoil(createIncident, { statuses: { production: null } }), ['statuses.production']],
  ['statuses: {staging: "red"}', () => postUpdate, spoil(postUpdate, { statuses: { staging: 'red' } }), ['statuses.staging']],
  ['modes: {deploy: "read_only"}', () => postUpdate, spoil(postUpdate, { modes: { deploy: 'read_only' } }), ['modes.deploy']],
  ['statuses: {production: "purple"}', () => postUpdate, spoil(postUpdate, { statuses: { production: 'purple' } }), ['statuses.production']],
  ['modes: {worker: "paused"}', () => postUpdate, spoil(postUpdate, { modes: { worker: 'paused' } }), ['modes.worker']],
  ['scopes: ["root"]', () => createToken, spoil(createToken, { scopes: ['root'] }), ['scopes.0']],
  ['scopes: ["admin", "root"]', () => createToken, spoil(createToken, { scopes: ['admin', 'root'] }), ['scopes.1']],
  ['scopes: []', () => createToken, spoil(createToken, { scopes: [] }), ['scopes']],
  // states not valid for the kind
  ['state: "scheduled" (a maintenance state)', () => createIncident, spoil(createIncident, { state: 'scheduled' }), ['state']],
  ['state: "purple"', () => createIncident, spoil(createIncident, { state: 'purple' }), ['state']],
  ['state: "in_progress" on an incident', () => postUpdate, spoil(postUpdate, { state: 'in_progress' }), ['state']],
  ['state: "completed" on an incident', () => postUpdate, spoil(postUpdate, { state: 'completed' }), ['state']],
  ['state: "RESOLVED"', () => postUpdate, spoil(postUpdate, { state: 'RESOLVED' }), ['state']],
  [
    'state: "resolved" on a maintenance',
    () => ({ ...postUpdate, name: 'POST /api/v1/incidents/:maintenance/updates', path: () => `/api/v1/incidents/${maintenanceId}/updates` }),
    () => ({ state: 'resolved', message: 'Done.' }),
    ['state'],
  ],
  // timestamps
  ['at one minute in the future', () => createIncident, spoil(createIncident, { at: iso(MIN) }), ['at']],
  ['at one second in the future', () => postUpdate, spoil(postUpdate, { at: iso(1000) }), ['at']],
  ['at in the future by its offset (+01:00)', () => postUpdate, spoil(postUpdate, { at: '2026-03-01T11:30:00+01:00' }), ['at']],
  ['at a year in the future', () => postUpdate, spoil(postUpdate, { at: '2027-03-01T10:00:00Z' }), ['at']],
  ['at without a timezone', () => createIncident, spoil(createIncident, { at: '2026-03-01T09:00:00' }), ['at']],
  ['at without a timezone', () => postUpdate, spoil(postUpdate, { at: '2026-03-01T09:00:00' }), ['at']],
  ['at as a bare date', () => postUpdate, spoil(postUpdate, { at: '2026-03-01' }), ['at']],
  ['at: "yesterday"', () => postUpdate, spoil(postUpdate, { at: 'yesterday' }), ['at']],
  ['at on 30 February', () => postUpdate, spoil(postUpdate, { at: '2025-02-30T10:00:00Z' }), ['at']],
  ['at at hour 25', () => postUpdate, spoil(postUpdate, { at: '2026-02-01T25:00:00Z' }), ['at']],
  // empty, whitespace-only and too long text
  ['an empty title', () => createIncident, spoil(createIncident, { title: '' }), ['title']],
  ['a whitespace-only title', () => createIncident, spoil(createIncident, { title: '   \t\n ' }), ['title']],
  ['an empty message', () => createIncident, spoil(createIncident, { message: '' }), ['message']],
  ['a whitespace-only message', () => createIncident, spoil(createIncident, { message: ' \n\n ' }), ['message']],
  ['a whitespace-only message', () => postUpdate, spoil(postUpdate, { message: '    ' }), ['message']],
  ['a title of 201 characters', () => createIncident, spoil(createIncident, { title: longTitle }), ['title']],
  ['a whitespace-only title', () => editIncident, spoil(editIncident, { title: '  ' }), ['title']],
  ['a title of 201 characters', () => editIncident, spoil(editIncident, { title: longTitle }), ['title']],
  ['a message of 20,001 characters', () => postUpdate, spoil(postUpdate, { message: 'm'.repeat(20_001) }), ['message']],
  ['a whitespace-only markdown', () => writePostmortem, spoil(writePostmortem, { markdown: ' \n ' }), ['markdown']],
  ['a markdown of 200,001 characters', () => writePostmortem, spoil(writePostmortem, { markdown: 'm'.repeat(200_001) }), ['markdown']],
  ['an empty reason', () => hideUpdate, spoil(hideUpdate, { reason: '' }), ['reason']],
  ['a reason of 501 characters', () => hideUpdate, spoil(hideUpdate, { reason: 'r'.repeat(501) }), ['reason']],
  ['a whitespace-only token name', () => createToken, spoil(createToken, { name: '  ' }), ['name']],
  ['a token name of 101 characters', () => createToken, spoil(createToken, { name: 'n'.repeat(101) }), ['name']],
  // text Postgres cannot store
  ['a title containing a NUL character', () => createIncident, spoil(createIncident, { title: 'API\u0000errors' }), ['title']],
  ['a message containing a NUL character', () => postUpdate, spoil(postUpdate, { message: 'still\u0000looking' }), ['message']],
  ['a title containing a NUL character', () => editIncident, spoil(editIncident, { title: 'API\u0000errors' }), ['title']],
  ['a markdown containing a NUL character', () => writePostmortem, spoil(writePostmortem, { markdown: 'It was\u0000DNS' }), ['markdown']],
  ['a reason containing a NUL character', () => hideUpdate, spoil(hideUpdate, { reason: 'wrong\u0000incident' }), ['reason']],
  ['a token name containing a NUL character', () => createToken, spoil(createToken, { name: 'ci\u0000bot' }), ['name']],
];

describe('invalid bodies, one problem at a time', () => {
  for (const [what, endpoint, body, paths] of cases) {
    it(`when ${endpoint().name} gets ${what}, it answers 400 naming ${paths.join(', ')} and changes nothing`, async () => {
      await unchanged(() => send(endpoint(), { body: body() }), (res) => expectInvalid(res, paths));
    });
  }

  // JSON.stringify drops a "__proto__" key made in JS, so these are written out by hand.
  it('when POST /api/v1/incidents gets statuses: {"__proto__": "red"}, it answers 400 naming statuses.__proto__ and changes nothing', async () => {
    await unchanged(
      () => send(createIncident, { raw: '{"title":"x","message":"y","statuses":{"__proto__":"red"}}' }),
      (res) => expectInvalid(res, ['statuses.__proto__']),
    );
  });

  it('when POST /api/v1/incidents/:id/updates gets modes: {"__proto__": "maintenance"}, it answers 400 naming modes.__proto__ and changes nothing', async () => {
    await unchanged(
      () => send(postUpdate, { raw: '{"message":"y","modes":{"__proto__":"maintenance"}}' }),
      (res) => expectInvalid(res, ['modes.__proto__']),
    );
  });

  it('when POST /api/v1/incidents gets an unknown top-level "__proto__" field, it answers 400 and changes nothing', async () => {
    await unchanged(() => send(createIncident, { raw: '{"title":"x","message":"y","__proto__":{"admin":true}}' }), (res) => expectInvalid(res, ['__proto__']));
  });

  it('when at has a typo in its year (0026 for 2026), it is refused with 400 or kept exactly as sent, never silently rewritten', async () => {
    const at = '0026-03-01T09:00:00.000Z';
    const res = await t.call('POST', '/api/v1/incidents', { token: tok.writer, body: { title: 'Year typo', message: 'x', at } });
    expect(res.status).not.toBe(500);
    if (res.status === 400) {
      expectInvalid(res, ['at']);
    } else {
      expect(res.status).toBe(201);
      const stored = await t.db.selectFrom('incident_updates').select('at').where('incident_id', '=', res.body.id).executeTakeFirstOrThrow();
      expect({ response: res.body.started_at, stored: stored.at.toISOString() }).toEqual({ response: at, stored: at });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// every problem at once

describe('invalid bodies with several problems', () => {
  it('when POST /api/v1/incidents gets a body with many problems, the 400 lists every one of them', async () => {
    const res = await unchanged(
      () =>
        send(createIncident, {
          body: {
            title: 42,
            message: '   ',
            state: 'scheduled',
            statuses: { staging: 'red' },
            modes: { deploy: 'read_only' },
            at: iso(5 * MIN),
            satuses: { production: 'red' },
          },
        }),
      (r) => expectInvalid(r, ['title', 'message', 'state', 'statuses.staging', 'modes.deploy', 'at', 'satuses']),
    );
    expect(res.body.errors.length).toBeGreaterThanOrEqual(7);
  });

  it('when POST /api/v1/incidents/:id/updates gets a body with many problems, the 400 lists every one of them', async () => {
    await unchanged(
      () =>
        send(postUpdate, {
          body: { state: 9, message: '', statuses: { staging: 'red' }, modes: { deploy: 'read_only' }, at: '2026-03-01T09:00:00', satuses: {} },
        }),
      (r) => expectInvalid(r, ['state', 'message', 'statuses.staging', 'modes.deploy', 'at', 'satuses']),
    );
  });

  it('when POST /api/v1/tokens gets a body with many problems, the 400 lists every one of them', async () => {
    await unchanged(
      () => send(createToken, { body: { name: '', scopes: 'admin', scope: ['admin'] } }),
      (r) => expectInvalid(r, ['name', 'scopes', 'scope']),
    );
  });

  it('when statuses name an unknown environment and give a known one an unknown colour, the 400 lists both', async () => {
    await unchanged(
      () => send(createIncident, { body: { ...createIncident.valid(), statuses: { staging: 'red', production: 'purple' } } }),
      (r) => expectInvalid(r, ['statuses.staging', 'statuses.production']),
    );
  });

  it('when modes name an unknown role and give a known one an unknown mode, the 400 lists both', async () => {
    await unchanged(
      () => send(postUpdate, { body: { ...postUpdate.valid(), modes: { deploy: 'read_only', web: 'purple' } } }),
      (r) => expectInvalid(r, ['modes.deploy', 'modes.web']),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// oversized bodies

describe('oversized bodies', () => {
  const huge = () => JSON.stringify({ title: 'x', message: 'a'.repeat(257 * 1024), markdown: 'a', reason: 'a', name: 'a', scopes: ['admin'] });
  for (const e of writeEndpoints) {
    it(`when ${e.name} gets a body over 256 KiB, it answers 413 payload_too_large and changes nothing`, async () => {
      await unchanged(() => send(e, { raw: huge() }), (res) => expectError(res, 413, 'payload_too_large'));
    });
  }

  it('when a body over 256 KiB comes without a token, it still answers 413 and changes nothing', async () => {
    await unchanged(() => send(createIncident, { token: null, raw: huge() }), (res) => expectError(res, 413, 'payload_too_large'));
  });

  it('when a postmortem body is just under 256 KiB, it is read and refused for its length with 400, not 413', async () => {
    const raw = JSON.stringify({ markdown: 'm'.repeat(256 * 1024 - 20) });
    expect(new TextEncoder().encode(raw).length).toBeLessThanOrEqual(256 * 1024);
    await unchanged(() => send(writePostmortem, { raw }), (res) => expectInvalid(res, ['markdown']));
  });
});

// ---------------------------------------------------------------------------------------------
// unknown and malformed ids

describe('unknown ids', () => {
  const unknown: [string, string, string, Record<string, unknown> | undefined, () => string][] = [
    ['POST', '/api/v1/incidents/999999/updates', 'incident 999999', { message: 'x' }, () => tok.writer],
    ['PATCH', '/api/v1/incidents/999999', 'incident 999999', { title: 'x' }, () => tok.writer],
    ['PUT', '/api/v1/incidents/999999/postmortem', 'incident 999999', { markdown: 'x' }, () => tok.writer],
    ['POST', '/api/v1/incidents/999999/postmortem/publish', 'incident 999999', {}, () => tok.writer],
    ['POST', '/api/v1/incidents/999999/updates/1/hide', 'incident 999999', { reason: 'x' }, () => tok.writer],
    ['DELETE', '/api/v1/tokens/999999', 'token 999999', undefined, () => tok.admin],
  ];
  for (const [method, path, what, body, token] of unknown) {
    it(`when ${method} ${path} names ${what}, it answers 404 not_found and changes nothing`, async () => {
      await unchanged(() => t.call(method, path, { token: token(), ...(body ? { body } : {}) }), (res) => {
        expectError(res, 404, 'not_found');
        expect(res.body.message).toMatch(/999999/);
      });
    });
  }

  it('when hiding update 999999 of an existing incident, it answers 404 not_found and changes nothing', async () => {
    await unchanged(
      () => t.call('POST', `/api/v1/incidents/${openId}/updates/999999/hide`, { token: tok.writer, body: { reason: 'x' } }),
      (res) => expectError(res, 404, 'not_found'),
    );
  });

  it("when hiding another incident's update, it answers 404 not_found and changes nothing", async () => {
    await unchanged(
      () => t.call('POST', `/api/v1/incidents/${openId}/updates/${closedUpdateId}/hide`, { token: tok.writer, body: { reason: 'x' } }),
      (res) => expectError(res, 404, 'not_found'),
    );
  });

  it('when an unknown incident is written with an Idempotency-Key, it answers 404 and keeps no key', async () => {
    await unchanged(
      () => t.call('POST', '/api/v1/incidents/999999/updates', { token: tok.writer, body: { message: 'x' }, headers: { 'idempotency-key': 'unknown-incident-1' } }),
      (res) => expectError(res, 404, 'not_found'),
    );
  });
});

describe('malformed ids', () => {
  const badIds = ['abc', '99999999999999999999', '-1', '0', '2147483648', '9999999999', '1.5', '1e3', '0x10', '01', '%20', 'NaN'];
  const routes: [string, (id: string) => string, Record<string, unknown> | undefined, () => string][] = [
    ['POST', (id) => `/api/v1/incidents/${id}/updates`, { message: 'x' }, () => tok.writer],
    ['PATCH', (id) => `/api/v1/incidents/${id}`, { title: 'x' }, () => tok.writer],
    ['PUT', (id) => `/api/v1/incidents/${id}/postmortem`, { markdown: 'x' }, () => tok.writer],
    ['POST', (id) => `/api/v1/incidents/${id}/postmortem/publish`, {}, () => tok.writer],
    ['POST', (id) => `/api/v1/incidents/${id}/updates/${openUpdateIds[1]}/hide`, { reason: 'x' }, () => tok.writer],
    ['POST', (id) => `/api/v1/incidents/${openId}/updates/${id}/hide`, { reason: 'x' }, () => tok.writer],
    ['DELETE', (id) => `/api/v1/tokens/${id}`, undefined, () => tok.admin],
    ['GET', (id) => `/api/v1/incidents/${id}`, undefined, () => tok.writer],
  ];
  for (const [method, path, body, token] of routes) {
    for (const id of badIds) {
      it(`when ${method} ${path(':id').replace(':id', id)} is asked for, it answers 404 not_found (not 500) and changes nothing`, async () => {
        await unchanged(() => t.call(method, path(id), { token: token(), ...(body ? { body } : {}) }), (res) => expectError(res, 404, 'not_found'));
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
// authentication and scopes

describe('authentication', () => {
  const garble = (s: string) => s.slice(0, -4) + (s.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  const badAuth: [string, () => Record<string, string>][] = [
    ['no Authorization header', () => ({})],
    ['an empty bearer', () => ({ authorization: 'Bearer ' })],
    ['a garbled token', () => ({ authorization: 'Bearer hrd_not-a-token' })],
    ['a token with a wrong secret', () => ({ authorization: `Bearer ${garble(tok.admin)}` })],
    ['a token with an unknown key id', () => ({ authorization: `Bearer hrd_000000000000_${tok.admin.slice(-43)}` })],
    ['a revoked token', () => ({ authorization: `Bearer ${tok.revoked}` })],
    ['a token under the Basic scheme', () => ({ authorization: `Basic ${btoa(`user:${tok.admin}`)}` })],
    ['a token without the Bearer scheme', () => ({ authorization: tok.admin })],
  ];
  for (const e of writeEndpoints) {
    for (const [what, headers] of badAuth) {
      it(`when ${e.name} comes with ${what}, it answers 401 unauthorized and changes nothing`, async () => {
        await unchanged(() => send(e, { token: null, headers: headers() }), (res) => expectError(res, 401, 'unauthorized'));
      });
    }
    it(`when ${e.name} comes with no token and a bad body, it answers 401 before judging the body`, async () => {
      await unchanged(() => send(e, { token: null, raw: '{"title":' }), (res) => expectError(res, 401, 'unauthorized'));
    });
  }
});

describe('scopes', () => {
  for (const e of writeEndpoints) {
    const isToken = e.name.includes('/tokens');
    const lacking = isToken ? 'incidents:write' : 'maintenance:write';
    it(`when ${e.name} comes with a ${lacking} token, it answers 403 forbidden and changes nothing`, async () => {
      await unchanged(
        () => send(e, { token: isToken ? tok.writer : tok.maint }),
        (res) => {
          expectError(res, 403, 'forbidden');
          expect(res.body.message).toMatch(isToken ? /admin/ : /incidents:write/);
        },
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Idempotency-Key

describe('Idempotency-Key', () => {
  const idempotent = bodyEndpoints.filter((e) => !e.name.includes('/tokens'));
  const badKeys: [string, string][] = [
    ['256 characters long', 'k'.repeat(256)],
    ['holding a control character', 'key\u0001one'],
    ['holding a tab', 'key\tone'],
    ['holding a space', 'key one'],
    ['holding DEL', 'key\u007fone'],
    ['empty', ''],
  ];
  for (const e of idempotent) {
    for (const [what, key] of badKeys) {
      it(`when ${e.name} comes with an Idempotency-Key ${what} and a valid body, it answers 400 and does not write`, async () => {
        await unchanged(
          () => send(e, { headers: { 'idempotency-key': key } }),
          (res) => expectInvalid(res, ['Idempotency-Key']),
        );
      });
    }
  }

  it('when an Idempotency-Key is reused with a different body, it answers 422 idempotency_key_reused and changes nothing', async () => {
    const id = await ownIncident();
    const first = await t.call('POST', `/api/v1/incidents/${id}/updates`, { token: tok.writer, body: { message: 'First try.' }, headers: { 'idempotency-key': 'reuse-1' } });
    expect(first.status).toBe(201);
    await unchanged(
      () => t.call('POST', `/api/v1/incidents/${id}/updates`, { token: tok.writer, body: { message: 'Something else.' }, headers: { 'idempotency-key': 'reuse-1' } }),
      (res) => {
        expectError(res, 422, 'idempotency_key_reused');
        expect(res.body.message).toMatch(/reuse-1/);
      },
    );
  });

  it('when an Idempotency-Key is reused on another endpoint, it answers 422 idempotency_key_reused and changes nothing', async () => {
    const first = await t.call('PATCH', `/api/v1/incidents/${await ownIncident()}`, { token: tok.writer, body: { title: 'API errors (EU)' }, headers: { 'idempotency-key': 'reuse-2' } });
    expect(first.status).toBe(200);
    await unchanged(
      () => t.call('PATCH', `/api/v1/incidents/${closedId}`, { token: tok.writer, body: { title: 'API errors (EU)' }, headers: { 'idempotency-key': 'reuse-2' } }),
      (res) => expectError(res, 422, 'idempotency_key_reused'),
    );
  });

  it('when an Idempotency-Key is retried with the same body, it replays the first answer and changes nothing', async () => {
    const id = await ownIncident();
    const body = { message: 'Replay me.' };
    const first = await t.call('POST', `/api/v1/incidents/${id}/updates`, { token: tok.writer, body, headers: { 'idempotency-key': 'replay-1' } });
    expect(first.status).toBe(201);
    const again = await unchanged(
      () => t.call('POST', `/api/v1/incidents/${id}/updates`, { token: tok.writer, body, headers: { 'idempotency-key': 'replay-1' } }),
      (res) => expect(res.status).toBe(201),
    );
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.update.id).toBe(first.body.update.id);
  });

  it('when a request with an Idempotency-Key is refused as invalid, the key is not kept and a corrected retry goes through', async () => {
    const key = 'fix-and-retry-1';
    await unchanged(
      () => t.call('POST', '/api/v1/incidents', { token: tok.writer, body: { title: '', message: 'x' }, headers: { 'idempotency-key': key } }),
      (res) => expectInvalid(res, ['title']),
    );
    const retry = await t.call('POST', '/api/v1/incidents', { token: tok.writer, body: { title: 'Retried', message: 'x' }, headers: { 'idempotency-key': key } });
    expect(retry.status).toBe(201);
  });

  it('when a request with an Idempotency-Key is refused as a conflict, the key is not kept', async () => {
    await unchanged(
      () => t.call('POST', `/api/v1/incidents/${openId}/postmortem/publish`, { token: tok.writer, body: {}, headers: { 'idempotency-key': 'conflict-1' } }),
      (res) => expectError(res, 409, 'conflict'),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// conflicts are clear errors too

describe('writes the timeline refuses', () => {
  it('when a postmortem is published before one is written, it answers 409 conflict and changes nothing', async () => {
    await unchanged(
      () => t.call('POST', `/api/v1/incidents/${openId}/postmortem/publish`, { token: tok.writer, body: {} }),
      (res) => expectError(res, 409, 'conflict'),
    );
  });

  it('when a token is revoked twice, it answers 409 conflict and changes nothing', async () => {
    const row = await t.db.selectFrom('api_tokens').select('id').where('name', '=', 'to-revoke').executeTakeFirstOrThrow();
    await unchanged(() => t.call('DELETE', `/api/v1/tokens/${row.id}`, { token: tok.admin }), (res) => expectError(res, 409, 'conflict'));
  });

  it("when the maintenance's only update would be hidden, it answers 409 conflict and changes nothing", async () => {
    const u = await t.db.selectFrom('incident_updates').select('id').where('incident_id', '=', maintenanceId).executeTakeFirstOrThrow();
    await unchanged(
      () => t.call('POST', `/api/v1/incidents/${maintenanceId}/updates/${u.id}/hide`, { token: tok.writer, body: { reason: 'x' } }),
      (res) => expectError(res, 409, 'conflict'),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// secrets

describe('logs', () => {
  it('when a token secret is sent in the body or the path of a bad request, it is refused without being logged', async () => {
    const inBody = await send(createToken, { body: { name: tok.admin, scopes: [tok.admin] } });
    expectInvalid(inBody, ['scopes.0']);
    expect(JSON.stringify(inBody.body)).not.toContain(tok.admin.slice(-43));
    const inPath = await t.call('PATCH', `/api/v1/incidents/${tok.admin}`, { token: tok.writer, body: { title: 'x' } });
    expectError(inPath, 404, 'not_found');
  });

  // Every test's own log lines are checked after it (afterEach); this one sends a bad request of
  // each kind above, carrying every secret it can, and checks its lines itself.
  it('when bad requests of every kind carry token secrets, the logs hold no secret and no unhandled error (bad input is never a server error)', async () => {
    const start = t.logs.length;
    const requests: Res[] = [];
    for (const secret of secrets) {
      requests.push(await send(createIncident, { token: secret, raw: '{"title":' }));
      requests.push(await send(createIncident, { token: secret, body: { title: secret, message: secret, statuses: { [secret]: 'red' } } }));
      requests.push(await send(createToken, { token: secret, body: { name: secret, scopes: [secret] } }));
      requests.push(await send(createIncident, { token: null, headers: { authorization: `Bearer ${secret.slice(0, -4)}AAAA` } }));
      requests.push(await send(createIncident, { token: null, headers: { authorization: `Basic ${btoa(`user:${secret}`)}` } }));
      requests.push(await send(postUpdate, { token: secret, headers: { 'idempotency-key': `key\u0001${secret}` } }));
      requests.push(await t.call('PATCH', `/api/v1/incidents/${secret}`, { token: secret, body: { title: 'x' } }));
      requests.push(await t.call('DELETE', `/api/v1/tokens/${secret}`, { token: secret }));
    }
    requests.push(await send(createIncident, { raw: JSON.stringify({ title: tok.admin, message: 'a'.repeat(257 * 1024) }) }));
    for (const r of requests) {
      expect(r.status, JSON.stringify(r.body)).toBeGreaterThanOrEqual(400);
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
    }
    expectCleanLogs(t.logs.slice(start));
  });
});
