import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { startServer, type RunningServer } from '../../src/entry/node.ts';
import { ModeClient } from '../../src/gate/mode-client.ts';
import { seedToken } from '../support/seed.ts';
import { freshDatabase } from '../support/db.ts';
import { parseLogfmt } from '../support/logfmt.ts';

describe('ModeClient against a running Herald', () => {
  let handle: DatabaseHandle;
  let server: RunningServer;
  let token: string;
  beforeAll(async () => {
    handle = await freshDatabase();
    server = await startServer({ ...parseConfig({}), port: 0 }, { handle, hostname: '127.0.0.1' });
    token = (await seedToken(handle.db, ['admin'], 'ops'));
  });
  afterAll(async () => {
    await server.close();
    await handle.close();
  });

  const override = (role: string, mode: string | null) =>
    fetch(`${server.url}/api/v1/platform/roles/${role}/override`, {
      method: mode ? 'PUT' : 'DELETE',
      headers: { authorization: `Bearer ${token}` },
      ...(mode ? { body: JSON.stringify({ mode, reason: 'job queue migration' }) } : {}),
    });

  for (const transport of ['events', 'poll'] as const) {
    it(`when following by ${transport}, a worker waits in whenRunnable while its role is in maintenance, and change callbacks fire`, async () => {
      const client = new ModeClient({ heraldUrl: server.url, transport, pollIntervalMs: 100 });
      try {
        await client.ready();
        expect(client.stale).toBe(false);
        expect(client.mode('worker')).toBe('full');
        await expect(client.whenRunnable('worker')).resolves.toBeUndefined();
        const seen: string[] = [];
        client.onChange((role, s, prev) => seen.push(`${role}:${prev.mode}->${s.mode}`));
        expect((await override('worker', 'maintenance')).status).toBe(200);
        await expect.poll(() => client.mode('worker'), { timeout: 3000 }).toBe('maintenance');
        expect(client.state('worker').reason).toBe('job queue migration');
        let ran = false;
        const waiting = client.whenRunnable('worker').then(() => (ran = true));
        await new Promise((r) => setTimeout(r, 300));
        expect(ran).toBe(false);
        expect((await override('worker', null)).status).toBe(200);
        await waiting;
        expect(ran).toBe(true);
        expect(seen).toEqual(['worker:full->maintenance', 'worker:maintenance->full']);
      } finally {
        client.close();
      }
    });
  }

  it('when Herald cannot be reached, the client reports stale and acts on its initial mode', async () => {
    const logs: string[] = [];
    const client = new ModeClient({ heraldUrl: 'http://127.0.0.1:9', initialMode: 'read_only', backoffMs: 50, log: (l) => logs.push(l) });
    try {
      await client.ready(300);
      expect(client.state('web')).toEqual({ mode: 'read_only', retryAfter: null, reason: null, stale: true });
    } finally {
      client.close();
    }
  });

  it("when Herald answers and then stops answering, the client logs each change of contact once, in Herald's log format", async () => {
    const logs: string[] = [];
    let up = true;
    const answers = (async () => {
      if (!up) throw new Error('connect ECONNREFUSED');
      return new Response(JSON.stringify({ roles: [{ role: 'web', mode: 'maintenance', retry_after: null, sources: [{ title: 'Upgrade' }] }] }), { status: 200 });
    }) as typeof fetch;
    const client = new ModeClient({ heraldUrl: 'http://herald.test/', transport: 'poll', pollIntervalMs: 20, backoffMs: 20, maxBackoffMs: 20, log: (l) => logs.push(l), fetch: answers });
    try {
      await client.ready(1000);
      up = false;
      await expect.poll(() => client.stale, { timeout: 2000 }).toBe(true);
      await new Promise((r) => setTimeout(r, 100)); // the failures that follow add nothing
      expect(logs).toEqual([
        'level=info msg="in contact with Herald" url=http://herald.test',
        'level=warn msg="lost contact with Herald; keeping the last known modes" modes=web:maintenance error="Error: connect ECONNREFUSED"',
      ]);
      expect(logs.map((l) => parseLogfmt(l).level)).toEqual(['info', 'warn']);
    } finally {
      client.close();
    }
  });
});
