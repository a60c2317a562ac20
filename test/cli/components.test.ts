import { afterEach, describe, expect, it } from 'vitest';
import { backendName } from '../support/db.ts';
import { cliServer, herald, type CliServer } from './harness.ts';

/**
 * `herald components`, `component:add|update|retire|restore` and `group:add|update|retire|restore`:
 * the real binary against a real Herald over HTTP. Each test has its own server and database
 * (components production and development, seeded at its first start), so a listing shows only
 * what that test did.
 */
describe(`herald component commands against a real server (${backendName})`, () => {
  const servers: CliServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  async function server() {
    const srv = await cliServer();
    servers.push(srv);
    return { srv, env: srv.env(await srv.token(['components:write'], 'keeper')) };
  }

  it('adds a group and components, moves and renames one; `herald components` prints the page order with groups, --json the API\'s lists', async () => {
    const { srv, env } = await server();
    const group = await herald(['group:add', 'apps', '--name', 'Apps', '--description', 'What customers use'], { env });
    expect(group).toMatchObject({ code: 0, stdout: 'apps\n', stderr: 'Added group apps "Apps" (position 3).\n' });
    expect(await herald(['component:add', 'web', '--name', 'Web', '--group', 'apps', '--start-date', '2026-01-01'], { env })).toMatchObject({
      code: 0,
      stdout: 'web\n',
      stderr: 'Added component web "Web" (group apps, position 1).\n',
    });
    expect((await herald(['component:add', 'api', '--name', 'API', '--group', 'apps', '--position', '1', '--start-date', '2026-02-01'], { env })).stderr).toBe(
      'Added component api "API" (group apps, position 1).\n',
    );
    expect((await herald(['component:add', 'dns', '--name', 'DNS', '--only-show-if-degraded', '--start-date', '2025-12-31'], { env })).stderr).toBe(
      'Added component dns "DNS" (top level, position 4).\n',
    );
    const moved = await herald(['component:update', 'development', '--name', 'Staging EU', '--position', '1'], { env });
    expect(moved).toMatchObject({ code: 0, stdout: 'development\n', stderr: 'Updated component development "Staging EU" (top level, position 1).\n' });

    const list = await herald(['components'], { env });
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(
      [
        'SLUG         NAME        STATUS  SINCE       NOTES',
        'development  Staging EU  green   -',
        'production   Production  green   -',
        'apps/        Apps        green               group',
        '  api        API         green   2026-02-01',
        '  web        Web         green   2026-01-01',
        'dns          DNS         green   2025-12-31  shown only when degraded',
        '',
      ].join('\n'),
    );
    const json = await herald(['components', '--json'], { env });
    const body = JSON.parse(json.stdout);
    expect(body.components.map((c: any) => [c.slug, c.group, c.position])).toEqual([['development', null, 1], ['production', null, 2], ['api', 'apps', 1], ['web', 'apps', 2], ['dns', null, 4]]);
    expect(body.groups.map((g: any) => [g.slug, g.components])).toEqual([['apps', ['api', 'web']]]);
    // the server agrees
    expect((await srv.api('GET', '/api/v1/components/development', await srv.token(['incidents:write']))).body.name).toBe('Staging EU');
  });

  it('retires and restores: a group with members is refused naming them; --all lists what is retired', async () => {
    const { env } = await server();
    await herald(['group:add', 'tools', '--name', 'Tools'], { env });
    await herald(['component:update', 'development', '--group', 'tools'], { env });
    const refused = await herald(['group:retire', 'tools'], { env });
    expect(refused).toMatchObject({ code: 1, stdout: '', stderr: 'herald: Group "tools" still has live components: development. Move them out (group: null) or retire them first.\n' });
    expect(await herald(['component:update', 'development', '--no-group'], { env })).toMatchObject({ code: 0, stderr: 'Updated component development "Development" (top level, position 3).\n' });
    expect(await herald(['group:retire', 'tools'], { env })).toMatchObject({ code: 0, stdout: 'tools\n', stderr: 'Retired group tools "Tools".\n' });
    expect(await herald(['component:retire', 'production'], { env })).toMatchObject({ code: 0, stdout: 'production\n', stderr: 'Retired component production "Production"; its history stays.\n' });
    const live = await herald(['components'], { env });
    expect(live.stdout).toBe(['SLUG         NAME         STATUS  SINCE  NOTES', 'development  Development  green   -', ''].join('\n'));
    const all = await herald(['components', '--all'], { env });
    const lines = all.stdout.split('\n');
    expect(lines[1]).toBe('development  Development  green   -');
    expect(lines[2]).toMatch(/^tools\/\s+Tools\s+-\s+group, retired \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    expect(lines[3]).toMatch(/^production\s+Production\s+green\s+-\s+retired \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    expect(await herald(['component:restore', 'production'], { env })).toMatchObject({ code: 0, stderr: 'Restored component production "Production" (top level, position 2).\n' });
    expect(await herald(['group:restore', 'tools'], { env })).toMatchObject({ code: 0, stderr: 'Restored group tools "Tools" (position 3).\n' });
    expect(await herald(['group:update', 'tools', '--name', 'Internal tools', '--position', '1'], { env })).toMatchObject({ code: 0, stderr: 'Updated group tools "Internal tools" (position 1).\n' });
  });

  it('prints every problem the server finds (exit 1), refuses a wrong command line (exit 2), and needs a token even to list', async () => {
    const { srv, env } = await server();
    const bad = await herald(['component:add', 'Bad', '--name', ' ', '--start-date', '2026-02-30', '--group', 'nope'], { env });
    expect(bad.code).toBe(1);
    expect(bad.lines).toEqual([
      'herald: slug must be 1 to 40 lowercase letters, digits, - or _, starting with a letter',
      'herald: name must not be empty',
      'herald: group: unknown group "nope" (there are no groups)',
      'herald: start_date must be a real date YYYY-MM-DD, e.g. 2026-03-01',
    ]);
    expect(await herald(['component:add', 'production', '--name', 'Again'], { env })).toMatchObject({
      code: 1,
      stderr: 'herald: The slug "production" is taken by component "Production": components and groups share one namespace.\n',
    });
    const [noName, position, both, nothing, noToken, writer] = await Promise.all([
      herald(['component:add', 'cdn'], { env }),
      herald(['component:update', 'cdn', '--position', '0'], { env }),
      herald(['component:update', 'cdn', '--group', 'a', '--no-group'], { env }),
      herald(['component:update', 'cdn'], { env }),
      herald(['components'], { env: srv.env() }),
      srv.token(['incidents:write'], 'writer').then((t) => herald(['component:retire', 'production'], { env: srv.env(t) })),
    ]);
    expect(noName).toMatchObject({ code: 2, stdout: '' });
    expect(noName.lines[0]).toBe('herald: --name is required');
    expect(position.lines[0]).toBe('herald: --position takes a whole number, 1 or more (got "0")');
    expect(both.lines[0]).toBe('herald: give --group or --no-group, not both');
    expect(nothing.lines[0]).toBe('herald: nothing to change: give at least one option (see herald component:update --help)');
    expect(noToken.code).toBe(2);
    expect(noToken.lines[0]).toMatch(/^herald: this command needs an API token/);
    expect(writer).toMatchObject({ code: 1, stderr: 'herald: This token (writer) lacks the "components:write" scope.\n' });
  });
});
