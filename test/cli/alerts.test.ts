import { afterEach, describe, expect, it } from 'vitest';
import { backendName } from '../support/db.ts';
import { cliServer, herald, type CliServer } from './harness.ts';

/**
 * `herald alert-rules`, `alert-rule:add|update|remove|show`, `alerts:inbox` and
 * `alerts:inbox:show`: the real binary against a real Herald over HTTP. Each test has its own
 * server and database (components production and development, roles web and worker).
 */
describe(`herald alert commands against a real server (${backendName})`, () => {
  const servers: CliServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  async function server() {
    const srv = await cliServer();
    servers.push(srv);
    const admin = await srv.token(['admin'], 'ops');
    return { srv, admin, env: srv.env(admin) };
  }

  /** An Alertmanager (webhook version 4) notification, posted with an alerts:write token. */
  async function notify(srv: CliServer, options: { groupKey?: string; labels?: Record<string, string> } = {}) {
    const labels = { alertname: 'HighLatency', environment: 'production', severity: 'page', ...options.labels };
    const body = {
      version: '4',
      groupKey: options.groupKey ?? '{}:{alertname="HighLatency"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'herald',
      groupLabels: { alertname: labels.alertname },
      commonLabels: labels,
      commonAnnotations: { summary: 'p99 latency is 2.4s' },
      externalURL: 'http://alertmanager.example.com:9093',
      alerts: [{ status: 'firing', labels, annotations: { summary: 'p99 latency is 2.4s' }, startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://prometheus.example.com:9090/graph', fingerprint: '5c0b8a9e3f1d2a47' }],
    };
    const res = await srv.api('POST', '/api/v1/alerts/alertmanager', await srv.token(['alerts:write'], 'alertmanager'), body);
    return { ...res, sent: body };
  }

  const TIME = '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC';

  it('adds rules with every option; `herald alert-rules` lists them in the order they are tried, --json the API\'s list', async () => {
    const { srv, admin, env } = await server();
    const pages = await herald(
      ['alert-rule:add', '--name', 'Pages', '--matchers', 'severity=~"critical|page"', '--mode', 'web=read_only', '--auto-resolve', '--quiet-minutes', '15', '--opened-template', '{{ count }} firing:\n{{ alerts }}', '--title-template', '{{ labels.alertname }}'],
      { env },
    );
    expect(pages).toMatchObject({ code: 0, stderr: 'Added alert rule #1 "Pages" (position 1).\n' });
    expect(pages.stdout).toBe('1\n');
    const db = await herald(['alert-rule:add', '--name', 'Database', '--matchers', 'team="db"', '--component', 'development', '--status', 'orange', '--source', 'grafana', '--position', '1', '--disabled'], { env });
    expect(db).toMatchObject({ code: 0, stdout: '2\n', stderr: 'Added alert rule #2 "Database" (position 1, disabled).\n' });
    const labelled = await herald(['alert-rule:add', '--name', 'By cluster', '--matchers', 'severity="ticket"', '--component-label', 'cluster', '--status', 'yellow', '--recovered-template', 'All clear.', '--added-template', 'More: {{ alerts }}'], { env });
    expect(labelled).toMatchObject({ code: 0, stdout: '3\n' });

    const list = await herald(['alert-rules'], { env });
    expect(list).toMatchObject({ code: 0, stderr: '' });
    expect(list.stdout).toBe(
      [
        'ID  POS  NAME        SENDER   MATCHERS                     COMPONENT          STATUS  MODES          AUTO-RESOLVE  QUIET  ENABLED  VERSION',
        '2   1    Database    grafana  {team="db"}                  development        orange  -              no            30m    no       v1',
        '1   2    Pages       both     {severity=~"critical|page"}  label environment  red     web=read_only  yes           15m    yes      v1',
        '3   3    By cluster  both     {severity="ticket"}          label cluster      yellow  -              no            30m    yes      v1',
        '',
      ].join('\n'),
    );
    const json = JSON.parse((await herald(['alert-rules', '--json'], { env })).stdout);
    expect(json).toEqual((await srv.api('GET', '/api/v1/alert-rules', admin)).body);
    expect(json.find((r: { id: number }) => r.id === 1)).toMatchObject({
      modes: { web: 'read_only' },
      auto_resolve: true,
      quiet_period_minutes: 15,
      templates: { title: '{{ labels.alertname }}', opened: '{{ count }} firing:\n{{ alerts }}', added: null, recovered: null },
    });
    expect(json.find((r: { id: number }) => r.id === 3)).toMatchObject({ component: { label: 'cluster' }, status: 'yellow', templates: { added: 'More: {{ alerts }}', recovered: 'All clear.' } });
    expect(json.find((r: { id: number }) => r.id === 2)).toMatchObject({ source: 'grafana', component: { fixed: 'development' }, enabled: false });
  });

  it('a wrong rule is refused with every problem on its own line and nothing saved; a wrong command line is exit 2', async () => {
    const { srv, admin, env } = await server();
    const bad = await herald(['alert-rule:add', '--name', 'Broken', '--matchers', 'severity="page', '--component', 'moon', '--status', 'green', '--mode', 'web=sideways', '--opened-template', 'Broken {{ labels.'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.lines).toEqual(
      expect.arrayContaining([
        'herald: matchers: at 14: expected a closing " for the value opened at 9',
        'herald: component: unknown component "moon" (known: production, development)',
        'herald: status: must be one of yellow, orange, red, blue',
        'herald: modes.web: must be one of full, read_only, maintenance',
        expect.stringMatching(/^herald: templates\.opened: line 1, column \d+: /),
      ]),
    );
    expect(bad.lines).toHaveLength(5);
    expect((await srv.api('GET', '/api/v1/alert-rules', admin)).body).toEqual([]);

    const [noName, both, quiet, mode, nothing] = await Promise.all([
      herald(['alert-rule:add', '--matchers', 'a="b"'], { env }),
      herald(['alert-rule:add', '--name', 'X', '--matchers', 'a="b"', '--component', 'production', '--component-label', 'env'], { env }),
      herald(['alert-rule:add', '--name', 'X', '--matchers', 'a="b"', '--quiet-minutes', 'soon'], { env }),
      herald(['alert-rule:add', '--name', 'X', '--matchers', 'a="b"', '--mode', 'web'], { env }),
      herald(['alert-rule:update', '1'], { env }),
    ]);
    expect(noName).toMatchObject({ code: 2, stdout: '' });
    expect(noName.lines[0]).toBe('herald: alert-rule:add needs --name');
    expect(both.lines[0]).toBe('herald: give --component-label or --component, not both');
    expect(quiet.lines[0]).toBe('herald: --quiet-minutes takes a whole number, 0 or more (got "soon")');
    expect(mode.lines[0]).toBe('herald: --mode takes NAME=VALUE, e.g. web=read_only (got "web")');
    expect(nothing.lines[0]).toBe('herald: nothing to change: give at least one option (see herald alert-rule:update --help)');
    for (const r of [both, quiet, mode, nothing]) expect(r.code).toBe(2);
    expect((await srv.api('GET', '/api/v1/alert-rules', admin)).body).toEqual([]);
  });

  it('update makes a new version and `alert-rule:show` lists them; --disabled and --enabled switch it; remove takes it away', async () => {
    const { srv, admin, env } = await server();
    await herald(['alert-rule:add', '--name', 'Pages', '--matchers', 'severity="page"', '--mode', 'worker=maintenance'], { env });
    await herald(['alert-rule:add', '--name', 'Tickets', '--matchers', 'severity="ticket"'], { env });
    const updated = await herald(['alert-rule:update', '1', '--status', 'orange', '--quiet-minutes', '60', '--no-modes', '--recovered-template', 'Recovered: {{ alerts }}', '--position', '2'], { env });
    expect(updated).toMatchObject({ code: 0, stdout: '1\n', stderr: 'Updated alert rule #1 "Pages": now version 2.\n' });
    expect(await herald(['alert-rule:update', '1', '--disabled'], { env })).toMatchObject({ code: 0, stderr: 'Updated alert rule #1 "Pages": now version 3.\n' });
    expect((await srv.api('GET', '/api/v1/alert-rules/1', admin)).body).toMatchObject({ position: 2, status: 'orange', quiet_period_minutes: 60, modes: {}, enabled: false, version: 3 });
    expect(await herald(['alert-rule:update', '1', '--enabled', '--disabled'], { env })).toMatchObject({ code: 2 });
    expect(await herald(['alert-rule:update', '1', '--enabled'], { env })).toMatchObject({ code: 0, stderr: 'Updated alert rule #1 "Pages": now version 4.\n' });

    const show = await herald(['alert-rule:show', '1'], { env });
    expect(show).toMatchObject({ code: 0, stderr: '' });
    const lines = show.stdout.split('\n');
    expect(lines.slice(0, 11)).toEqual([
      'Rule:                #1 Pages',
      'Position:            2',
      'Sender:              both',
      'Matchers:            {severity="page"}',
      'Component:           from label environment',
      'Status:              orange',
      'Modes:               none',
      'Auto-resolve:        no',
      'Quiet period:        60 minutes',
      'Enabled:             yes',
      expect.stringMatching(new RegExp(`^Version:             4 \\(${TIME}\\)$`)),
    ]);
    expect(lines).toContain('Recovered template:  Recovered: {{ alerts }}');
    expect(lines).toContain('Opened template:     (default)');
    const history = lines.slice(lines.indexOf('VERSION  WHEN                  WHO'));
    expect(history.slice(1, 5).map((l) => l.slice(0, 2))).toEqual(['v4', 'v3', 'v2', 'v1']);
    for (const l of history.slice(1, 5)) expect(l).toMatch(new RegExp(`^v\\d {7}${TIME}  token:ops#\\d+$`));
    expect(JSON.parse((await herald(['alert-rule:show', '1', '--json'], { env })).stdout).versions.map((v: { version: number }) => v.version)).toEqual([4, 3, 2, 1]);

    const removed = await herald(['alert-rule:remove', '2'], { env });
    expect(removed).toMatchObject({ code: 0, stdout: '2\n', stderr: 'Removed alert rule #2 "Tickets"; its versions and the inbox entries naming it stay.\n' });
    expect((await srv.api('GET', '/api/v1/alert-rules', admin)).body.map((r: { id: number; position: number }) => [r.id, r.position])).toEqual([[1, 1]]);
    expect(await herald(['alert-rule:show', '2'], { env })).toMatchObject({ code: 1, stdout: '', stderr: 'herald: Alert rule 2 was not found.\n' });
    expect(await herald(['alert-rule:remove', '2'], { env })).toMatchObject({ code: 1, stderr: 'herald: Alert rule 2 was not found.\n' });
  });

  it('`alerts:inbox` says what each notification did, newest first; `alerts:inbox:show` gives its reason, notes and body', async () => {
    const { srv, env } = await server();
    await herald(['alert-rule:add', '--name', 'Pages', '--matchers', 'severity="page"'], { env });
    const opened = await notify(srv);
    expect(opened.body).toMatchObject({ outcome: 'opened' });
    const unmatched = await notify(srv, { groupKey: 'disk', labels: { alertname: 'DiskFull', severity: 'ticket' } });
    expect(unmatched.body.outcome).toBe('unmatched');
    const moon = await notify(srv, { groupKey: 'moon', labels: { environment: 'moon' } });
    expect(moon.body.outcome).toBe('ignored');

    const inbox = await herald(['alerts:inbox'], { env });
    expect(inbox).toMatchObject({ code: 0, stderr: '' });
    const [header, ...rows] = inbox.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+TIME\s+SENDER\s+OUTCOME\s+INCIDENT\s+REASON$/);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(new RegExp(`^${moon.body.inbox_id}\\s+${TIME}\\s+alertmanager\\s+ignored\\s+-\\s+no alert names a live component: .*"moon".*$`));
    expect(rows[1]).toMatch(new RegExp(`^${unmatched.body.inbox_id}\\s+${TIME}\\s+alertmanager\\s+no rule matched\\s+-\\s+no rule matches any of its alerts$`));
    expect(rows[2]).toMatch(new RegExp(`^${opened.body.inbox_id}\\s+${TIME}\\s+alertmanager\\s+opened\\s+#${opened.body.incident_id}\\s+-$`));
    const limited = await herald(['alerts:inbox', '--limit', '1', '--before', String(moon.body.inbox_id)], { env });
    expect(limited.stdout.trimEnd().split('\n').slice(1)).toEqual([rows[1]]);

    const show = await herald(['alerts:inbox:show', String(moon.body.inbox_id)], { env });
    expect(show).toMatchObject({ code: 0, stderr: '' });
    expect(show.stdout).toContain('Outcome:   ignored\n');
    expect(show.stdout).toContain('Rule:      #1 v1\n');
    expect(show.stdout).toContain(`Reason:    ${moon.body.reason}\n`);
    expect(show.stdout).toContain('Notes:\n  - alert 5c0b8a9e3f1d2a47 (HighLatency) names component "moon", which is not on the page\n');
    expect(show.stdout).toContain(`Payload:\n${JSON.stringify(moon.sent, null, 2)}\n`);
    const json = JSON.parse((await herald(['alerts:inbox:show', String(opened.body.inbox_id), '--json'], { env })).stdout);
    expect(json).toMatchObject({ id: String(opened.body.inbox_id), outcome: 'opened', incident_id: opened.body.incident_id, rule: { id: 1, version: 1 } });
    expect(await herald(['alerts:inbox:show', '999999'], { env })).toMatchObject({ code: 1, stderr: 'herald: Inbox entry 999999 was not found.\n' });
  });

  it('a token without the admin scope is refused the rules and the inbox', async () => {
    const { srv } = await server();
    const env = srv.env(await srv.token(['incidents:write', 'alerts:write'], 'alice'));
    for (const args of [['alert-rules'], ['alert-rule:add', '--name', 'X', '--matchers', 'a="b"'], ['alerts:inbox']]) {
      const r = await herald(args, { env });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/^herald: .*admin/);
    }
  });
});
