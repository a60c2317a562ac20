import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { backendName, freshDatabase } from '../support/db.ts';
import { testApp } from '../support/app.ts';

/**
 * Read-your-writes, as a property: writers and readers interleaved on one instance for a while.
 * Every GET that starts after a write was answered 201 must show that write, whoever reads.
 */

let handle: DatabaseHandle;
let t: Awaited<ReturnType<typeof testApp>>;
let writer: string;

beforeAll(async () => {
  handle = await freshDatabase();
  t = await testApp(handle);
  writer = await t.token(['incidents:write']);
});
afterAll(async () => handle.close());

describe(`read-your-writes under interleaved writers and readers (${backendName})`, () => {
  it('every public GET that starts after a 201 shows that update, on every route read', async () => {
    const opened = await t.call('POST', '/api/v1/incidents', { token: writer, body: { title: 'Interleaved', message: 'Opened.', statuses: { production: 'yellow' } } });
    expect(opened.status).toBe(201);
    const id = opened.body.id as number;
    const acknowledged: { message: string; at: number }[] = [];
    const violations: string[] = [];
    let writing = true;

    const write = async (w: number) => {
      for (let n = 1; n <= 12; n++) {
        const message = `writer ${w} update ${n}`;
        const r = await t.call('POST', `/api/v1/incidents/${id}/updates`, { token: writer, body: { message } });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        acknowledged.push({ message, at: performance.now() });
      }
    };
    const read = async (r: number) => {
      const paths = ['/api/v4/current-status', '/feed.rss', `/incidents/${id}`, '/api/v1/status'];
      for (let n = 0; writing; n++) {
        const path = paths[(n + r) % paths.length]!;
        const startedAt = performance.now();
        const due = acknowledged.filter((a) => a.at < startedAt);
        const res = await t.app.request(path);
        const text = await res.text();
        expect(res.status, path).toBe(200);
        // /api/v1/status shows no messages: it is read to interleave snapshot builds, and checked for freshness.
        if (path !== '/api/v1/status') for (const a of due) if (!text.includes(a.message)) violations.push(`${path} started after "${a.message}" was acknowledged and lacks it`);
        if (res.headers.get('x-herald-snapshot') !== 'fresh') violations.push(`${path} answered ${res.headers.get('x-herald-snapshot')} on a healthy database`);
        // In process nothing else makes a reader yield (a real client waits on its socket): let
        // the database's answers to the writers in.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };

    const readers = Promise.all([0, 1, 2, 3].map(read));
    try {
      await Promise.all([1, 2, 3].map(write));
    } finally {
      writing = false;
      await readers;
    }
    expect(acknowledged).toHaveLength(36);
    expect(violations.slice(0, 10)).toEqual([]);
  });
});
