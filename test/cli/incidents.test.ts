import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendName } from '../support/db.ts';
import { ANSI, cliServer, herald, PUBLIC_URL, type CliServer } from './harness.ts';

/**
 * The commander's commands, the real `herald` binary against a real Herald over HTTP: open,
 * update, show, list, resolve, postmortem:publish, token:revoke; the errors a server gives back.
 */
describe(`herald incident commands against a real server (${backendName})`, () => {
  let srv: CliServer;
  let alice: string; // incidents:write
  let admin: string;
  let dir: string;
  const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

  beforeAll(async () => {
    srv = await cliServer();
    [alice, admin] = await Promise.all([srv.token(['incidents:write'], 'alice'), srv.token(['admin'], 'root')]);
    dir = await mkdtemp(join(tmpdir(), 'herald-cli-'));
  });
  afterAll(async () => {
    await srv?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('opens with --impact and edits the impact and the title with incident:edit; --impact derived hands it back to the statuses', async () => {
    const opened = await herald(['incident:open', '--title', 'Rated outage', '--message', 'x', '--status', 'production=orange', '--impact', 'major'], { env: srv.env(alice) });
    expect(opened.code, opened.stderr).toBe(0);
    const id = Number(opened.stdout);
    const read = async () => (await fetch(`${srv.url}/api/v1/incidents/${id}`).then((r) => r.json())) as { title: string; impact: string | null };
    expect(await read()).toMatchObject({ impact: 'major' });
    const edited = await herald(['incident:edit', String(id), '--impact', 'critical', '--title', 'Rated outage (eu-west)'], { env: srv.env(alice) });
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.lines).toEqual([`Edited incident #${id} "Rated outage (eu-west)"; impact: critical.`, `${PUBLIC_URL}/incidents/${id}`]);
    expect(await read()).toMatchObject({ title: 'Rated outage (eu-west)', impact: 'critical' });
    const derived = await herald(['incident:edit', String(id), '--impact', 'derived'], { env: srv.env(alice) });
    expect(derived.lines[0]).toBe(`Edited incident #${id} "Rated outage (eu-west)"; impact: derived from its statuses.`);
    expect((await read()).impact).toBeNull();
    const nothing = await herald(['incident:edit', String(id)], { env: srv.env(alice) });
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('incident:edit needs --title or --impact');
    // closed again: the other tests list the open incidents of this server
    expect((await herald(['incident:resolve', String(id)], { env: srv.env(alice) })).code).toBe(0);
  });

  it('opens, updates (message from stdin and from a file), shows, lists and resolves; stdout carries only the answer', async () => {
    const opened = await herald(
      ['incident:open', '--title', 'Database failover', '--message', 'Writes are failing on the primary; investigating.', '--status', 'production=red', '--mode', 'web=read_only', '--at', ago(30)],
      { env: srv.env(alice) },
    );
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toMatch(/^\d+\n$/);
    const id = Number(opened.stdout);
    expect(opened.lines).toEqual([`Opened incident #${id} "Database failover" (investigating).`, `${PUBLIC_URL}/incidents/${id}`]);

    const fromStdin = await herald(['incident:update', String(id), '--state', 'identified', '--message', '-', '--status', 'production=yellow', '--at', ago(20)], {
      env: srv.env(alice),
      input: 'Failover to the replica is under way.\n',
    });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toMatch(/^\d+\n$/);
    const firstUpdate = Number(fromStdin.stdout);
    expect(fromStdin.lines).toEqual([`Posted update #${firstUpdate} to incident #${id} "Database failover"; it is identified.`, `${PUBLIC_URL}/incidents/${id}`]);

    const file = join(dir, 'update.md');
    await writeFile(file, 'Replica promoted.\n\nWrites are back for most customers.\n');
    const fromFile = await herald(['incident:update', String(id), '--state', 'monitoring', '--message-file', file, '--status', 'production=yellow,development=green', '--mode', 'web=full'], {
      env: srv.env(alice),
    });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(Number(fromFile.stdout)).toBeGreaterThan(firstUpdate);

    const api = (await fetch(`${srv.url}/api/v1/incidents/${id}`).then((r) => r.json())) as any;
    expect(api.state).toBe('monitoring');
    expect(api.updates.map((u: any) => u.message)).toEqual([
      'Replica promoted.\n\nWrites are back for most customers.',
      'Failover to the replica is under way.',
      'Writes are failing on the primary; investigating.',
    ]);
    expect(api.modes).toEqual({ web: 'full' });

    // reads: human (aligned, no colour when piped, even without NO_COLOR) and --json (the server's JSON)
    const [show, showJson, list, listJson] = await Promise.all([
      herald(['incident:show', String(id)], { env: srv.env() }),
      herald(['incident:show', String(id), '--json'], { env: srv.env() }),
      herald(['incident:list'], { env: srv.env() }),
      herald(['incident:list', '--state', 'open', '--limit', '5', '--json'], { env: srv.env() }),
    ]);
    expect(show).toMatchObject({ code: 0, stderr: '' });
    expect(show.stdout).not.toMatch(ANSI);
    const lines = show.stdout.split('\n');
    expect(lines[0]).toBe(`=== Incident #${id}: Database failover`);
    expect(lines).toContain('State:       monitoring (open)');
    expect(lines).toContain('Statuses:    production yellow, development green');
    expect(lines).toContain(`URL:         ${PUBLIC_URL}/incidents/${id}`);
    const header = lines.find((l) => l.startsWith('UPDATE'))!;
    expect(header).toMatch(/^UPDATE +AT +STATE +BY +CHANGES +MESSAGE$/);
    const row = lines.find((l) => l.startsWith(String(firstUpdate)))!;
    // every column starts where its header does
    for (const col of ['AT', 'STATE', 'BY', 'CHANGES', 'MESSAGE']) expect(row.charAt(header.indexOf(col) - 1)).toBe(' ');
    expect(row.slice(header.indexOf('STATE'))).toMatch(/^identified +alice +production=yellow +Failover to the replica is under way\.$/);
    expect(lines.find((l) => l.includes('Replica promoted.'))).toContain('Replica promoted. Writes are back for most customers.');

    expect(showJson.code).toBe(0);
    const { scope_of_impact: _live, ...asShown } = JSON.parse(showJson.stdout); // impact grows while it is open
    const { scope_of_impact: _earlier, ...asFetched } = api;
    expect(asShown).toEqual(asFetched);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID +KIND +STATE +STARTED +RESOLVED +TITLE$/);
    expect(list.stdout).toMatch(new RegExp(`\\n${id} +incident +monitoring +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC +- +Database failover\\n`));
    expect(JSON.parse(listJson.stdout).incidents.map((i: any) => i.id)).toEqual([id]);

    const resolved = await herald(['incident:resolve', String(id), '--message', 'Writes are back; the API is fully available.'], { env: srv.env(alice) });
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(resolved.stdout).toMatch(/^\d+\n$/);
    expect(resolved.lines[0]).toMatch(new RegExp(`^Resolved incident #${id} "Database failover" \\(update #\\d+\\); impact: production impaired \\d+ minutes?; web read-only \\d+ minutes?\\.$`));

    const [openNow, shown] = await Promise.all([herald(['incident:list', '--state', 'open'], { env: srv.env() }), herald(['incident:show', String(id), '--json'], { env: srv.env() })]);
    expect(openNow).toMatchObject({ code: 0, stdout: '', stderr: 'No incidents.\n' });
    expect(JSON.parse(shown.stdout)).toMatchObject({ state: 'resolved', open: false, statuses: { production: 'green' } });
  });

  it('a 400 prints each problem on its own line and changes nothing; 401, 403 and 404 print the server\'s sentence; all exit 1', async () => {
    const before = ((await fetch(`${srv.url}/api/v1/incidents?limit=100`).then((r) => r.json())) as any).incidents.length;
    const ops = await srv.token(['maintenance:write'], 'ops');
    const [invalid, unauthorized, forbidden, missing, badQuery] = await Promise.all([
      herald(['incident:open', '--title', 'Bad', '--message', 'Bad.', '--status', 'staging=red', '--status', 'production=purple', '--mode', 'api=full', '--at', '2030-01-01T00:00:00Z'], {
        env: srv.env(alice),
      }),
      herald(['incident:open', '--title', 'x', '--message', 'y'], { env: srv.env(`hrd_${'0'.repeat(12)}_${'x'.repeat(43)}`) }),
      herald(['incident:open', '--title', 'x', '--message', 'y'], { env: srv.env(ops) }),
      herald(['incident:show', '999999'], { env: srv.env() }),
      herald(['incident:list', '--state', 'sideways', '--limit', '500'], { env: srv.env() }),
    ]);
    for (const r of [invalid, unauthorized, forbidden, missing, badQuery]) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
    }
    expect(invalid.lines).toEqual([
      'herald: statuses.staging: unknown environment "staging" (known: production, development)',
      'herald: statuses.production: must be one of green, yellow, orange, red, blue',
      'herald: modes.api: unknown role "api" (known: web, worker)',
      expect.stringMatching(/^herald: at: must not be in the future \(server time is \d{4}-.*Z\)$/),
    ]);
    expect(unauthorized.lines).toEqual(['herald: A valid API token is required: send "Authorization: Bearer <token>" (create one with `herald token:create`).']);
    expect(forbidden.lines).toEqual(['herald: This token (ops) lacks the "incidents:write" scope.']);
    expect(missing.lines).toEqual(['herald: Incident 999999 was not found.']);
    expect(badQuery.lines).toEqual(['herald: limit: must be at most 100', 'herald: state: must be open, closed or all']);
    const after = ((await fetch(`${srv.url}/api/v1/incidents?limit=100`).then((r) => r.json())) as any).incidents.length;
    expect(after).toBe(before);
  });

  it('postmortem:publish is refused while the incident is open (the draft is kept), and publishes once it is resolved', async () => {
    const opened = await srv.api('POST', '/api/v1/incidents', alice, { title: 'Queue backlog', message: 'Jobs are delayed.', statuses: { production: 'yellow' } });
    const id = opened.body.id as number;
    const file = join(dir, 'postmortem.md');
    await writeFile(file, '# Queue backlog\n\nA consumer deploy stalled the queue for 40 minutes.\n');

    const early = await herald(['postmortem:publish', String(id), '--file', file], { env: srv.env(alice) });
    expect(early.code).toBe(1);
    expect(early.stdout).toBe('');
    expect(early.lines).toEqual([`herald: Incident ${id} is still investigating; a postmortem is published once it is closed.`, 'herald: the draft is saved; run this command again to publish it']);

    await srv.api('POST', `/api/v1/incidents/${id}/updates`, alice, { state: 'resolved', message: 'Drained.' });
    const published = await herald(['postmortem:publish', String(id), '--file', '-'], {
      env: srv.env(alice),
      input: '# Queue backlog\n\nA consumer deploy stalled the queue for 40 minutes. We now canary consumers.\n',
    });
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout).toBe('');
    expect(published.lines).toEqual([`Published the postmortem of incident #${id} "Queue backlog".`, `${PUBLIC_URL}/incidents/${id}`]);
    const view = (await fetch(`${srv.url}/api/v1/incidents/${id}`).then((r) => r.json())) as any;
    expect(view.postmortem.markdown).toBe('# Queue backlog\n\nA consumer deploy stalled the queue for 40 minutes. We now canary consumers.');
    expect(view.postmortem.published_at).toEqual(expect.any(String));
  });

  it('token:create --remote prints only the secret; token:list shows it; token:revoke revokes it over HTTP', async () => {
    const created = await herald(['token:create', '--remote', '--name', 'deploy-bot', '--scopes', 'incidents:write'], { env: srv.env(admin) });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^hrd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/);
    expect(created.lines[0]).toMatch(/^Created token #\d+ "deploy-bot" with scopes incidents:write\. It is shown once; store it now\.$/);
    const secret = created.stdout.trim();
    const tokenId = Number(/#(\d+)/.exec(created.lines[0]!)![1]);

    const [list, notAdmin] = await Promise.all([herald(['token:list'], { env: srv.env(admin) }), herald(['token:revoke', String(tokenId)], { env: srv.env(alice) })]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`\\n${tokenId} +deploy-bot +incidents:write +\\d{4}-.* UTC +- +active\\n`));
    expect(list.stdout).not.toContain(secret);
    expect(notAdmin).toMatchObject({ code: 1, stdout: '', stderr: 'herald: This token (alice) lacks the "admin" scope.\n' });

    const revoked = await herald(['token:revoke', String(tokenId)], { env: srv.env(admin) });
    expect(revoked).toMatchObject({ code: 0, stdout: '', stderr: `Revoked token #${tokenId} "deploy-bot" (incidents:write).\n` });
    const [useIt, again] = await Promise.all([
      herald(['incident:open', '--title', 'x', '--message', 'y'], { env: srv.env(secret) }),
      herald(['token:revoke', String(tokenId)], { env: srv.env(admin) }),
    ]);
    expect(useIt.code).toBe(1);
    expect(useIt.lines).toEqual([expect.stringMatching(/^herald: A valid API token is required/)]);
    expect(again.code).toBe(1);
    expect(again.lines).toEqual([expect.stringMatching(new RegExp(`^herald: Token ${tokenId} was already revoked at \\d{4}-.*Z\\.$`))]);
  });

  it('a write whose response is lost is retried with the same Idempotency-Key and applied once; --idempotency-key makes a re-run safe', async () => {
    const { body } = await srv.api('POST', '/api/v1/incidents', alice, { title: 'Flaky network', message: 'Starting.' });
    const id = body.id as number;
    // A proxy that forwards the first write to Herald, lets it commit, then drops the connection.
    const keys: string[] = [];
    let dropped = false;
    const proxy: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST') keys.push(String(req.headers['idempotency-key']));
        const upstream = request(`${srv.url}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('end', () => {
            if (req.method === 'POST' && !dropped) {
              dropped = true;
              req.socket.destroy(); // the write happened; its answer never arrives
              return;
            }
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(Buffer.concat(parts));
          });
        });
        upstream.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
      const run = await herald(['incident:update', String(id), '--message', 'Posted once.', '--url', url], { env: srv.env(alice) });
      expect(run.code, run.stderr).toBe(0);
      expect(run.lines[0]).toMatch(/^the connection to Herald was lost \((UND_ERR_SOCKET|ECONNRESET)\); retrying \(1\/2\)…$/);
      expect(keys).toHaveLength(2);
      expect(keys[0]).toMatch(/^herald-cli-[0-9a-f-]{36}$/);
      expect(keys[1]).toBe(keys[0]);

      const rerun = ['incident:update', String(id), '--message', 'Re-run safely.', '--idempotency-key', `deploy-42-${backendName}`];
      const first = await herald(rerun, { env: srv.env(alice) });
      const second = await herald(rerun, { env: srv.env(alice) });
      expect(first.code).toBe(0);
      expect(second.stdout).toBe(first.stdout); // the same update, answered again

      const view = (await fetch(`${srv.url}/api/v1/incidents/${id}`).then((r) => r.json())) as any;
      expect(view.updates.map((u: any) => u.message)).toEqual(['Re-run safely.', 'Posted once.', 'Starting.']);
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});
