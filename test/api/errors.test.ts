import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { freshDatabase } from '../support/db.ts';
import { testApp } from '../support/app.ts';

describe('when the database fails under a request', () => {
  let handle: DatabaseHandle;
  let t: Awaited<ReturnType<typeof testApp>>;
  let token: string;
  beforeAll(async () => {
    handle = await freshDatabase();
    t = await testApp(handle);
    token = await t.token(['admin']);
  });
  afterAll(async () => {
    await handle.db.schema.alterTable('incident_updates_broken').renameTo('incident_updates').execute();
    await handle.close();
  });

  it('when a query fails, the client gets a 500 that names no internals, and the log gets the cause without the token', async () => {
    await handle.db.schema.alterTable('incident_updates').renameTo('incident_updates_broken').execute();
    const r = await t.call('POST', '/api/v1/incidents', { token, body: { title: 'x', message: 'y' } });
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ id: 'internal_error', code: 'server.internal_error', message: 'Something went wrong on our side. It has been logged; please try again.' });
    expect(JSON.stringify(r.body)).not.toMatch(/incident_updates|relation|sql/i);
    expect(t.logs.some((l) => l.includes('level=error') && l.includes('incident_updates'))).toBe(true);
    expect(t.logs.join('\n')).not.toContain(token);
    // the write was one transaction: the incident row did not survive its failed update
    const incidents = await handle.db.selectFrom('incidents').select('id').execute();
    expect(incidents).toEqual([]);
    const ready = await t.call('GET', '/readyz');
    expect(ready.status).toBe(200);
  });
});
