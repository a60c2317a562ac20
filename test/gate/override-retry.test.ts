import { expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { startServer } from '../../src/entry/node.ts';
import { withPlatformGate } from '../../src/gate/fetch.ts';
import { ModeClient } from '../../src/gate/mode-client.ts';
import { seedToken } from '../support/seed.ts';
import { freshDatabase } from '../support/db.ts';
import { waitFor } from '../support/upstream.ts';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

it('when an override on Herald says until and refresh, a following gate sends Retry-After to everyone and Refresh to browsers on the maintenance page', async () => {
  const handle = await freshDatabase();
  const server = await startServer({ ...parseConfig({}), port: 0 }, { handle, hostname: '127.0.0.1' });
  const modes = new ModeClient({ heraldUrl: server.url });
  try {
    const token = (await seedToken(handle.db, ['admin'], 'ops'));
    await modes.ready();
    const gated = withPlatformGate(() => new Response('ok'), { role: 'web', modes, statusPageUrl: server.url, log: () => {} });
    const until = new Date(Date.now() + 2 * 3_600_000);
    until.setUTCMilliseconds(0);
    const set = await fetch(`${server.url}/api/v1/platform/roles/web/override`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'maintenance', reason: 'Database upgrade', until: until.toISOString(), refresh: 30 }),
    });
    expect(set.status).toBe(200);
    await waitFor(() => modes.mode('web') === 'maintenance', 3000);

    const api = await gated(new Request('http://api.test/apps', { headers: { accept: 'application/json' } }));
    expect(api.status).toBe(503);
    expect(api.headers.get('retry-after')).toBe(until.toUTCString());
    expect(api.headers.get('refresh')).toBeNull();

    const browser = await gated(new Request('http://api.test/apps', { headers: { accept: BROWSER } }));
    expect(browser.status).toBe(503);
    expect(browser.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(browser.headers.get('retry-after')).toBe(until.toUTCString());
    expect(browser.headers.get('refresh')).toBe('30');
  } finally {
    modes.close();
    await server.close();
    await handle.close();
  }
});
