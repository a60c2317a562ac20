import { HtmlValidate, type Message } from 'html-validate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { freshDatabase } from '../support/db.ts';
import { T0, testApp } from '../support/app.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

/** html-validate's recommended rules, less two about how valid markup is spelled. */
const validator = new HtmlValidate({
  extends: ['html-validate:recommended'],
  rules: {
    'void-style': 'off', // hono/jsx writes void elements as <meta/>, which HTML reads the same as <meta>
    'attribute-boolean-style': 'off', // hono/jsx writes boolean attributes as defer="", which HTML reads as present
  },
});

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let resolvedId: number;

beforeAll(async () => {
  handle = await freshDatabase();
  t = await testApp(handle);
  const admin = await t.token(['admin']);
  t.clock.set(at(3 * DAY));
  // A resolved outage two days ago with a published postmortem (red days on the bars, a history entry)…
  const past = await t.call('POST', '/api/v1/incidents', {
    token: admin,
    body: { title: 'Login outage', message: 'Logins **fail** with <b>500</b>.', statuses: { production: 'red' }, at: at(DAY) },
  });
  resolvedId = past.body.id;
  await t.call('POST', `/api/v1/incidents/${resolvedId}/updates`, { token: admin, body: { state: 'resolved', message: 'Fixed.', at: at(DAY + 90 * MIN) } });
  await t.call('PUT', `/api/v1/incidents/${resolvedId}/postmortem`, { token: admin, body: { markdown: '## Cause\nAn expired certificate.\n\n- renew\n- alert' } });
  await t.call('POST', `/api/v1/incidents/${resolvedId}/postmortem/publish`, { token: admin });
  // …and one still open, restricting a role.
  await t.call('POST', '/api/v1/incidents', {
    token: admin,
    body: { title: 'Slow builds', message: 'See [the runbook](https://example.com/rb).', statuses: { development: 'yellow' }, modes: { worker: 'read_only' } },
  });
});
afterAll(async () => handle.close());

async function problems(path: string): Promise<string[]> {
  const res = await t.app.request(path, { headers: { accept: 'text/html' } });
  expect(res.status).toBe(200);
  const report = await validator.validateString(await res.text(), path);
  return report.results.flatMap((r) => r.messages.map((m: Message) => `${m.line}:${m.column} ${m.ruleId}: ${m.message}`));
}

describe("public pages pass html-validate's recommended rules", () => {
  it('when the status page shows 90-day bars, an open incident and a restricted role, it has no errors', async () => {
    expect(await problems('/')).toEqual([]);
  });

  it('when an incident page shows a timeline and a postmortem, it has no errors', async () => {
    expect(await problems(`/incidents/${resolvedId}`)).toEqual([]);
  });

  it('when the history page lists months with and without incidents, it has no errors', async () => {
    expect(await problems('/history')).toEqual([]);
  });

  it('when the bars are rendered, they are a figure named by its caption, and the list itself carries no name', async () => {
    const html = await (await t.app.request('/')).text();
    expect(html).toMatch(/<figure class="days"><figcaption class="sr-only">Production, last 90 days<\/figcaption><ol class="bars">/);
    expect(html).not.toMatch(/<ol[^>]*aria-label/);
  });
});
