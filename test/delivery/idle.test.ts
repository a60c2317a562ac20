import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KyselyPlugin } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { startServer, type RunningServer } from '../../src/entry/node.ts';
import { freshDatabase } from '../support/db.ts';
import { seedToken } from '../support/seed.ts';
import { freePort, waitFor } from '../support/upstream.ts';

/**
 * A server with nothing to send leaves its database alone: the webhook and mail loops sleep until
 * something queued falls due, not on a one-second poll. What a visitor or a commander queues
 * without a public change (a confirmation mail, a test event) wakes them; the loops' longest
 * sleep (a minute) is far beyond what these tests wait.
 */

const OUTBOX = /webhook_|mail_deliveries|outbox_notices/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let handle: DatabaseHandle;
let server: RunningServer | undefined;
/** Statements run on the outbox tables so far. */
let outboxStatements = 0;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'herald-idle-'));
  handle = await freshDatabase();
  const counting: KyselyPlugin = {
    transformQuery: (args) => {
      if (OUTBOX.test(JSON.stringify(args.node))) outboxStatements++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const counted = { ...handle, db: handle.db.withPlugin(counting), close: async () => {} };
  const config = parseConfig({ PORT: String(await freePort()), PUBLIC_URL: 'http://127.0.0.1', HERALD_DATA_DIR: join(dir, 'data'), HERALD_WEBHOOK_ALLOW: '127.0.0.1' });
  server = await startServer(config, { handle: counted, hostname: '127.0.0.1', keepLastKnown: false });
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  await handle.close();
  await rm(dir, { recursive: true, force: true });
});

/** Waits for the passes made at start to end: half a second with no statement on the outbox. */
async function settled(): Promise<void> {
  for (let seen = -1; seen !== outboxStatements; ) {
    seen = outboxStatements;
    await sleep(500);
  }
}

describe('an idle server', () => {
  it('runs no statement on the outbox for seconds on end when nothing is queued', async () => {
    await settled();
    const before = outboxStatements;
    await sleep(3_000);
    // A one-second poll would have made at least two passes per loop by now.
    expect(outboxStatements - before).toBe(0);
  });

  it("a visitor's sign-up, which changes nothing public, still has its confirmation mail written at once", async () => {
    await settled();
    const res = await fetch(`${server!.url}/subscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ email: 'jane@example.org' }).toString(),
    });
    expect(res.status).toBe(200);
    // No SMTP_URL: the mail is written as a .eml file under the data directory.
    const { value: files } = await waitFor(async () => {
      const names = await readdir(join(dir, 'data', 'mail')).catch(() => []);
      if (!names.some((n) => n.endsWith('.eml'))) throw new Error('no mail written yet');
      return names;
    }, 20_000, 50);
    expect(files.filter((n) => n.endsWith('.eml'))).toHaveLength(1);
  });

  it('"send a test event" is answered with the attempt, sent without waiting for a poll', async () => {
    const receiver = createServer((_req, res) => res.writeHead(200).end('ok'));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const token = await seedToken(handle.db, ['admin'], 'ops');
      const call = (path: string, body: unknown) =>
        fetch(`${server!.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const made = await call('/api/v1/webhooks', { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, events: ['incident.opened'] });
      expect(made.status).toBe(201);
      await settled();
      const tested = await call(`/api/v1/webhooks/${((await made.json()) as { id: number }).id}/test`, {});
      expect(tested.status).toBe(200);
      expect(((await tested.json()) as { attempt: unknown }).attempt).toMatchObject({ status: 200, error: null });
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
