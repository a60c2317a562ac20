import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/connect.ts';
import { startServer, type RunningServer } from '../../src/entry/node.ts';
import { seedToken } from '../support/seed.ts';
import { backendName, freshDatabase } from '../support/db.ts';

/**
 * The real `heroku status` command (@heroku-cli/plugin-status, an oclif v1 command) pointed at a
 * real Herald over HTTP through HEROKU_STATUS_HOST, run in a child process exactly as a user's
 * CLI would run it: it must read Herald's /api/v4/current-status and print it.
 */

const runner = fileURLToPath(new URL('../support/run-heroku-status.cjs', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `heroku status <args>` against `host`. Asynchronous on purpose: the server answering it
 * lives in this process, so a synchronous spawn would deadlock.
 */
function herokuStatus(host: string, args: string[] = []): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, HEROKU_STATUS_HOST: host, FORCE_COLOR: '0', NO_COLOR: '1' };
    delete env.NODE_OPTIONS; // vitest's loader hooks have no business in the CLI's process
    const child = spawn(process.execPath, [runner, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe(`heroku status CLI against Herald (${backendName})`, () => {
  let handle: DatabaseHandle;
  let server: RunningServer;
  let token: string;
  let incidentId: number;
  const title = 'Elevated error rates on the router';
  const first = 'We are investigating reports of 503s from the router.';
  const second = 'A bad deploy of the routing tier has been identified; rolling back.';

  async function api(method: string, path: string, body: unknown) {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    expect(res.status, `${method} ${path} → ${res.status} ${text}`).toBe(201);
    return JSON.parse(text);
  }

  beforeAll(async () => {
    handle = await freshDatabase();
    const config: Config = { ...parseConfig({ PUBLIC_URL: 'https://status.example.com' }), port: 0 };
    server = await startServer(config, { handle, hostname: '127.0.0.1' });
    token = (await seedToken(handle.db, ['admin'], 'heroku-cli-test'));

    const incident = await api('POST', '/api/v1/incidents', { title, message: first, statuses: { production: 'red' } });
    incidentId = incident.id;
    expect(incidentId).toEqual(expect.any(Number));
    await api('POST', `/api/v1/incidents/${incidentId}/updates`, { state: 'identified', message: second });
  });

  afterAll(async () => {
    await server?.close();
    await handle?.close();
  });

  it('prints each environment, the open incident and its updates', async () => {
    const run = await herokuStatus(server.url);
    expect(run.stderr).not.toMatch(/Error/);
    expect(run, run.stderr).toMatchObject({ code: 0, signal: null });
    const out = run.stdout;
    expect(out).not.toMatch(/\u001b\[/); // FORCE_COLOR=0 / NO_COLOR=1: plain text
    // The plugin pads "<system>:" to 11 columns, so "Production:" runs straight into its status.
    expect(out).toMatch(/^Production:\s*Red$/m);
    expect(out).toMatch(/^Development:\s*No known issues at this time\.$/m);
    expect(out).toContain(title);
    expect(out).toContain(`https://status.example.com/incidents/${incidentId}`);
    expect(out).toMatch(/^investigating\s+\d{4}-\d\d-\d\dT\S+Z \(.+ ago\)$/m);
    expect(out).toMatch(/^identified\s+\d{4}-\d\d-\d\dT\S+Z \(.+ ago\)$/m);
    expect(out).toContain(first);
    expect(out).toContain(second);
  });

  it('--json prints the v4 document', async () => {
    const run = await herokuStatus(server.url, ['--json']);
    expect(run, run.stderr).toMatchObject({ code: 0, signal: null });
    const body = JSON.parse(run.stdout);
    expect(body.status).toEqual([
      { system: 'Production', status: 'red' },
      { system: 'Development', status: 'green' },
    ]);
    expect(body.incidents).toHaveLength(1);
    expect(body.incidents[0].title).toBe(title);
    expect(body.incidents[0].updates.map((u: { update_type: string }) => u.update_type).sort()).toEqual(['identified', 'investigating']);
    expect(body.scheduled).toEqual([]);
  });
});
