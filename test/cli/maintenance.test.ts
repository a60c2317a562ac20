import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendName } from '../support/db.ts';
import { ANSI, cliServer, haveScript, herald, heraldInTerminal, INSTANCE_NAME, type CliServer } from './harness.ts';

/**
 * The operator's commands, the real `herald` binary against a real Herald over HTTP:
 * maintenance / maintenance:status|on|off and maintenances:info|run|window|window:update,
 * including the piping conventions (stdout only the answer; a script is never asked anything).
 */
describe(`herald maintenance commands against a real server (${backendName})`, () => {
  let srv: CliServer;
  let ops: string; // maintenance:write
  let alice: string; // incidents:write
  const terminal = haveScript();

  beforeAll(async () => {
    srv = await cliServer();
    [ops, alice] = await Promise.all([srv.token(['maintenance:write'], 'ops'), srv.token(['incidents:write'], 'alice')]);
  });
  afterAll(async () => srv?.close());

  const modeOf = async (role: string) => ((await fetch(`${srv.url}/api/v1/platform?role=${role}`).then((r) => r.json())) as any).roles[0].mode as string;

  it('maintenance:on from a script never waits (stdin open, not a terminal); status prints only on/off; off reports what is left', async () => {
    const [plain, all, unknown] = await Promise.all([
      herald(['maintenance'], { env: srv.env() }),
      herald(['maintenance:status', '--all'], { env: srv.env() }),
      herald(['maintenance:status', '--role', 'api'], { env: srv.env() }),
    ]);
    expect(plain).toMatchObject({ code: 0, stdout: 'off\n', stderr: '' });
    expect(all).toMatchObject({ code: 0, stdout: 'web off\nworker off\n', stderr: '' });
    expect(unknown).toMatchObject({ code: 1, stdout: '', stderr: 'herald: Role "api" is not configured (roles: web, worker).\n' });

    // stdin is a pipe that stays open and never says anything: no question, no wait
    const on = await herald(['maintenance:on', '--role', 'web', '--reason', 'Upgrading Postgres to 17'], { env: srv.env(ops), input: 'open', timeoutMs: 15_000 });
    expect(on).toMatchObject({ code: 0, stdout: 'on\n', stderr: 'web is in maintenance.\n' });
    expect(await modeOf('web')).toBe('maintenance');

    const [status, statusAll, json] = await Promise.all([
      herald(['maintenance:status'], { env: srv.env() }),
      herald(['maintenance', '--all'], { env: srv.env() }),
      herald(['maintenance', '--json'], { env: srv.env() }),
    ]);
    expect(status.code).toBe(0);
    expect(status.stdout).toBe('on\n');
    expect(status.lines).toEqual([expect.stringMatching(/^web is in maintenance since \d{4}-\d\d-\d\d \d\d:\d\d UTC, held by override "Upgrading Postgres to 17"\.$/)]);
    expect(statusAll.stdout).toBe('web on\nworker off\n');
    expect(JSON.parse(json.stdout).roles).toEqual([expect.objectContaining({ role: 'web', mode: 'maintenance' })]);

    // an incident also holds web; clearing the override says so, and stdout gives the resulting state
    const incident = await srv.api('POST', '/api/v1/incidents', alice, { title: 'Database failover', message: 'Writes are failing.', modes: { web: 'maintenance' } });
    const off = await herald(['maintenance:off', '--reason', 'Upgrade done'], { env: srv.env(ops) });
    expect(off).toMatchObject({
      code: 0,
      stdout: 'on\n',
      stderr: `The override is cleared, but web stays in maintenance: held by incident "Database failover" (incident:${incident.body.id}).\n`,
    });
    // turning off what is not on is not an error (heroku maintenance:off does the same)
    const offAgain = await herald(['maintenance:off'], { env: srv.env(ops) });
    expect(offAgain.code).toBe(0);
    expect(offAgain.stdout).toBe('on\n');
    expect(offAgain.lines).toEqual([
      'Role "web" has no manual override to clear.',
      expect.stringMatching(new RegExp(`^web is in maintenance since .* UTC, held by incident #${incident.body.id} "Database failover"\\.$`)),
    ]);

    await srv.api('POST', `/api/v1/incidents/${incident.body.id}/updates`, alice, { state: 'resolved', message: 'Back.' });
    // read-only is not maintenance: stdout says off, stderr says what it is
    const readOnly = await herald(['maintenance:on', '--role', 'worker', '--mode', 'read_only', '--reason', 'Draining the queue', '-y'], { env: srv.env(ops) });
    expect(readOnly).toMatchObject({ code: 0, stdout: 'off\n', stderr: 'worker is read-only.\n' });
    const [after, denied] = await Promise.all([
      herald(['maintenance', '--all'], { env: srv.env() }),
      herald(['maintenance:on', '--role', 'web', '-y'], { env: srv.env(alice) }),
    ]);
    const workerOff = await herald(['maintenance:off', '--role', 'worker'], { env: srv.env(ops) });
    expect(after.stdout).toBe('web off\nworker off\n');
    expect(after.lines).toEqual([expect.stringMatching(/^worker is read-only since .* UTC, held by override "Draining the queue"\.$/)]);
    expect(workerOff).toMatchObject({ code: 0, stdout: 'off\n', stderr: 'The override is cleared; worker is fully available.\n' });
    expect(denied).toMatchObject({ code: 1, stdout: '', stderr: 'herald: This token (alice) lacks the "maintenance:write" scope.\n' });
    expect(await modeOf('web')).toBe('full');
  });

  it('maintenance:on --retry SECONDS (or --until TIME) gives the override an expected end that gates send as Retry-After; both at once are refused', async () => {
    const before = Date.now();
    const on = await herald(['maintenance:on', '--role', 'worker', '--reason', 'Queue upgrade', '--retry', '3600', '--json'], { env: srv.env(ops) });
    expect(on.code, on.stderr).toBe(0);
    const end = Date.parse(JSON.parse(on.stdout).role.retry_after);
    expect(end).toBeGreaterThanOrEqual(before + 3600_000);
    expect(end).toBeLessThanOrEqual(Date.now() + 3600_000);
    const until = new Date(Date.now() + 7200_000).toISOString();
    const again = await herald(['maintenance:on', '--role', 'worker', '--reason', 'Queue upgrade', '--until', until, '--json'], { env: srv.env(ops) });
    expect(JSON.parse(again.stdout).role.retry_after).toBe(until);
    const both = await herald(['maintenance:on', '--role', 'worker', '--until', until, '--retry', '60'], { env: srv.env(ops) });
    expect(both).toMatchObject({ code: 2, stdout: '' });
    expect(both.stderr).toContain('give --until or --retry, not both');
    expect((await herald(['maintenance:off', '--role', 'worker'], { env: srv.env(ops) })).code).toBe(0);
  });

  it('maintenances:info lists and shows maintenance; maintenances:run needs --confirm to take a role down; the window is read and set', async () => {
    const none = await herald(['maintenances:info'], { env: srv.env() });
    expect(none).toMatchObject({ code: 0, stdout: '', stderr: 'No open maintenance.\n' });

    const inADay = new Date(Date.now() + 86_400_000);
    const created = await srv.api('POST', '/api/v1/maintenances', ops, {
      title: 'Postgres 17 upgrade',
      message: 'We will upgrade the primary database.',
      environments: ['production'],
      modes: { web: 'maintenance' },
      scheduled_for: inADay.toISOString(),
      scheduled_until: new Date(inADay.getTime() + 2 * 3_600_000).toISOString(),
    });
    expect(created.status).toBe(201);
    const id = created.body.id as number;

    const [list, info, infoJson, refused] = await Promise.all([
      herald(['maintenances:info'], { env: srv.env() }),
      herald(['maintenances:info', String(id)], { env: srv.env() }),
      herald(['maintenances:info', String(id), '--json'], { env: srv.env() }),
      herald(['maintenances:run', String(id)], { env: srv.env(ops) }),
    ]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^ID +STATUS +FROM +UNTIL +TITLE\\n${id} +scheduled +\\d{4}-.* UTC +\\d{4}-.* UTC +Postgres 17 upgrade\\n$`));
    expect(info.code).toBe(0);
    const lines = info.stdout.split('\n');
    expect(lines[0]).toBe(`=== Maintenance #${id}: Postgres 17 upgrade`);
    expect(lines).toContain('Status:           scheduled');
    expect(lines).toContain('Environments:     production');
    expect(lines).toContain('Modes:            web maintenance');
    expect(JSON.parse(infoJson.stdout)).toMatchObject({ id, status: 'scheduled', environments: ['production'], modes: { web: 'maintenance' } });
    expect(refused.code).toBe(1);
    expect(refused.lines).toEqual([
      `herald: Running maintenance ${id} now puts web into maintenance, refusing requests. Put it in maintenance first, or confirm with the instance name: {"confirm": "${INSTANCE_NAME}"} (CLI: --confirm ${INSTANCE_NAME}).`,
    ]);
    expect(await modeOf('web')).toBe('full');

    const run = await herald(['maintenances:run', String(id), '--confirm', INSTANCE_NAME, '--message', 'Starting the upgrade now.'], { env: srv.env(ops) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.lines).toEqual([expect.stringMatching(new RegExp(`^Maintenance #${id} "Postgres 17 upgrade" is in_progress since \\d{4}-.* UTC, planned until \\d{4}-.* UTC\\.$`))]);
    const held = await herald(['maintenance'], { env: srv.env() });
    expect(held.stdout).toBe('on\n');
    expect(held.lines[0]).toMatch(new RegExp(`held by maintenance #${id} "Postgres 17 upgrade" until \\d{4}-.* UTC\\.$`));

    const set = await herald(['maintenances:window:update', 'Sunday', '14:30', '--duration-hours', '4'], { env: srv.env(ops) });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('');
    expect(set.lines).toEqual([expect.stringMatching(/^The maintenance window is now Sundays 14:30 UTC for 4 hours; next \d{4}-\d\d-\d\d 14:30 UTC\.$/)]);
    const [window, windowJson, bad] = await Promise.all([
      herald(['maintenances:window'], { env: srv.env() }),
      herald(['maintenances:window', '--json'], { env: srv.env() }),
      herald(['maintenances:window:update', 'Someday', '25:00', '--duration-hours', '40'], { env: srv.env(ops) }),
    ]);
    expect(window.stdout).toMatch(/^Window: {2}Sundays 14:30 UTC for 4 hours\nNext: {4}\d{4}-\d\d-\d\d 14:30 UTC\n$/);
    expect(JSON.parse(windowJson.stdout)).toMatchObject({ day: 'Sunday', time: '14:30', duration_hours: 4 });
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.lines).toEqual(['herald: day: must be a day of the week, e.g. Sunday', 'herald: time: must be a time HH:MM in UTC, e.g. 14:30', 'herald: duration_hours: must be at most 24']);

    await srv.api('POST', `/api/v1/maintenances/${id}/cancel`, ops, {});
  });

  it('maintenances:info pages as incident:list does: --limit prints the next page\'s command, --cursor gets it, --json is the API\'s page, --all adds closed ones', async () => {
    const schedule = async (title: string, days: number) => {
      const at = new Date(Date.now() + days * 86_400_000);
      const res = await srv.api('POST', '/api/v1/maintenances', ops, { title, message: 'Planned work.', scheduled_for: at.toISOString() });
      expect(res.status).toBe(201);
      return res.body.id as number;
    };
    const sooner = await schedule('Disk swap', 2);
    const later = await schedule('Kernel upgrade', 3);

    const first = await herald(['maintenances:info', '--limit', '1'], { env: srv.env() });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^ID +STATUS +FROM +UNTIL +TITLE\\n${later} +scheduled .* Kernel upgrade\\n$`));
    expect(first.lines).toEqual([expect.stringMatching(/^More: herald maintenances:info --cursor \S+ --limit 1$/)]);
    const more = first.lines[0]!.replace('More: herald ', '').split(' ');
    const second = await herald(more, { env: srv.env() });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`^ID +STATUS +FROM +UNTIL +TITLE\\n${sooner} +scheduled .* Disk swap\\n$`));
    expect(second.stderr).toBe('');

    const [json, all, withId] = await Promise.all([
      herald(['maintenances:info', '--json'], { env: srv.env() }),
      herald(['maintenances:info', '--all', '--limit', '100', '--json'], { env: srv.env() }),
      herald(['maintenances:info', String(sooner), '--limit', '1'], { env: srv.env() }),
    ]);
    expect(JSON.parse(json.stdout)).toEqual({ maintenances: [expect.objectContaining({ id: later }), expect.objectContaining({ id: sooner })], next_cursor: null, next: null });
    const everyOne = JSON.parse(all.stdout).maintenances as { id: number; status: string }[];
    expect(everyOne.slice(0, 2).map((m) => m.id)).toEqual([later, sooner]);
    expect(everyOne.some((m) => m.status === 'cancelled')).toBe(true);
    expect(withId).toMatchObject({ code: 2, stdout: '' });
    expect(withId.lines[0]).toBe('herald: --limit pages the list; give it without ID');

    for (const id of [sooner, later]) await srv.api('POST', `/api/v1/maintenances/${id}/cancel`, ops, {});
  });

  it('on a terminal: maintenance:on asks first (no answer, no change; -y skips it); colour only there, and never with NO_COLOR', async (t) => {
    if (!(await terminal)) return t.skip('util-linux `script` is not installed: no pseudo-terminal to test with');
    const [declined, list, listNoColour] = await Promise.all([
      heraldInTerminal(['maintenance:on', '--role', 'worker', '--reason', 'Reindexing'], { env: srv.env(ops), input: 'n\n' }),
      heraldInTerminal(['incident:list'], { env: srv.env() }),
      heraldInTerminal(['incident:list'], { env: srv.env(undefined, { NO_COLOR: '1' }) }),
    ]);
    expect(declined.code).toBe(1);
    expect(declined.output).toContain('Put worker into maintenance? Its gates will refuse requests until `herald maintenance:off --role worker`. [y/N] ');
    expect(declined.output).toContain('herald: cancelled; nothing was changed\n');
    expect(await modeOf('worker')).toBe('full');
    expect(list.code).toBe(0);
    expect(list.output).toMatch(ANSI);
    expect(list.output).toContain('\u001b[1mID\u001b[22m');
    expect(listNoColour.code).toBe(0);
    expect(listNoColour.output).not.toMatch(ANSI);
    expect(listNoColour.output).toMatch(/^ID +KIND +STATE/);

    const confirmed = await heraldInTerminal(['maintenance:on', '--role', 'worker', '--reason', 'Reindexing', '-y'], { env: srv.env(ops) });
    expect(confirmed.code).toBe(0);
    expect(confirmed.output).not.toContain('[y/N]');
    expect(confirmed.output).toBe('on\nworker is in maintenance.\n');
    const yes = await heraldInTerminal(['maintenance:off', '--role', 'worker'], { env: srv.env(ops) });
    expect(yes.output).toBe('off\nThe override is cleared; worker is fully available.\n');
  });
});
