import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suggestCommand } from '../../src/cli/registry.ts';
import { colourEnabled } from '../../src/cli/output.ts';
import { ANSI, cliServer, herald, type CliServer } from './harness.ts';

/**
 * What a person types before reading the manual: --version, a typo, `help TOPIC`, Heroku's
 * -a/--app, and FORCE_COLOR / NO_COLOR.
 */

const TOKEN = `hrd_${'0'.repeat(12)}_${'x'.repeat(43)}`;

describe('herald CLI basics (no server)', () => {
  it('when asked --version (or -v, or version), it prints herald/VERSION with the platform and Node on stdout and exits 0', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const expected = `herald/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`;
    const runs = await Promise.all([herald(['--version']), herald(['-v']), herald(['version'])]);
    for (const r of runs) expect(r).toMatchObject({ code: 0, stdout: expected, stderr: '' });
  });

  it('when a command is mistyped, it exits 2 and names the command it probably meant', async () => {
    const [swap, topic, bare, nothing] = await Promise.all([herald(['incident:opne']), herald(['maintenace']), herald(['resolve']), herald(['frobnicate'])]);
    expect(swap).toMatchObject({ code: 2, stdout: '' });
    expect(swap.lines).toEqual(['herald: unknown command "incident:opne"; did you mean incident:open?', 'See `herald help`.']);
    expect(topic.lines[0]).toBe('herald: unknown command "maintenace"; did you mean maintenance?');
    expect(bare.lines[0]).toBe('herald: unknown command "resolve"; did you mean incident:resolve?');
    expect(nothing.lines[0]).toBe('herald: unknown command "frobnicate"');
    // the same guesses without a process each
    expect(suggestCommand('maintenances:wndow')).toBe('maintenances:window');
    expect(suggestCommand('tokne:list')).toBe('token:list');
    expect(suggestCommand('INCIDENT:LIST')).toBe('incident:list');
    expect(suggestCommand('xyz')).toBeUndefined();
  });

  it('when asked help TOPIC (or just TOPIC), it lists that topic\'s commands; help maintenance also describes the maintenance command', async () => {
    const [help, bare, flag, maintenance, unknown] = await Promise.all([
      herald(['help', 'incident']),
      herald(['incident']),
      herald(['token', '--help']),
      herald(['help', 'maintenance']),
      herald(['help', 'incidnt']),
    ]);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    const listed = help.stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim().split(/\s+/)[0]);
    expect(listed).toEqual(['incident:open', 'incident:update', 'incident:resolve', 'incident:edit', 'incident:show', 'incident:list']);
    expect(help.stdout).toMatch(/^Commands in incident:\n {2}incident:open +open an incident; stdout: its id\n/);
    expect(bare).toMatchObject({ code: 0, stdout: help.stdout });
    expect(flag.code).toBe(0);
    expect(flag.stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim().split(/\s+/)[0])).toEqual(['token:create', 'token:revoke', 'token:list']);
    expect(maintenance.code).toBe(0);
    expect(maintenance.stdout).toMatch(/^Usage: herald maintenance:status/);
    expect(maintenance.stdout).toContain('Commands in maintenance:\n  maintenance:status');
    expect(maintenance.stdout).toMatch(/\n {2}maintenance:off +clear a role's manual override\n/);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.lines[0]).toBe('herald: unknown command "incidnt"; did you mean incident?');
  });

  it('when given Heroku\'s -a/--app, it changes nothing and exits 2 saying Herald has no apps (and what picks the target instead)', async () => {
    const env = { HERALD_URL: 'http://127.0.0.1:9', HERALD_TOKEN: TOKEN };
    const [on, status, list, bare] = await Promise.all([
      herald(['maintenance:on', '-a', 'my-app', '-y'], { env }),
      herald(['maintenance', '--app=my-app'], { env }),
      herald(['incident:list', '--app', 'my-app'], { env }),
      herald(['maintenance:off', '-a'], { env }),
    ]);
    const withRole = 'herald: Herald has no apps, so -a/--app means nothing here: --role ROLE picks the role (e.g. --role web), and HERALD_URL (or --url) the Herald server';
    for (const r of [on, status, bare]) {
      expect(r).toMatchObject({ code: 2, stdout: '' });
      expect(r.lines[0]).toBe(withRole);
    }
    expect(list).toMatchObject({ code: 2, stdout: '' });
    expect(list.lines[0]).toBe('herald: Herald has no apps, so -a/--app means nothing here: HERALD_URL (or --url) picks the Herald server');
    // nothing was sent: the server at HERALD_URL does not exist, and no "cannot reach" line appeared
    for (const r of [on, status, list, bare]) expect(r.stderr).not.toContain('cannot reach');
  });

  it('when deciding on colour, FORCE_COLOR turns it on even on a pipe and wins over NO_COLOR; FORCE_COLOR=0 turns it off on a terminal', () => {
    const pipe = { write: () => true, isTTY: false };
    const tty = { write: () => true, isTTY: true };
    expect(colourEnabled(pipe, {})).toBe(false);
    expect(colourEnabled(tty, {})).toBe(true);
    expect(colourEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourEnabled(pipe, { FORCE_COLOR: 'true' })).toBe(true);
    expect(colourEnabled(pipe, { FORCE_COLOR: '3', TERM: 'dumb' })).toBe(true);
    expect(colourEnabled(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true);
    expect(colourEnabled(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colourEnabled(tty, { FORCE_COLOR: 'false' })).toBe(false);
    expect(colourEnabled(tty, { FORCE_COLOR: '' })).toBe(true); // empty: not set
    expect(colourEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled(tty, { NO_COLOR: '' })).toBe(true);
    expect(colourEnabled(tty, { TERM: 'dumb' })).toBe(false);
  });
});

describe('herald CLI colour on a pipe (a real server)', () => {
  let srv: CliServer;
  beforeAll(async () => {
    srv = await cliServer();
    const token = await srv.token(['incidents:write']);
    expect((await srv.api('POST', '/api/v1/incidents', token, { title: 'Slow API', message: 'Looking.', statuses: { production: 'yellow' } })).status).toBe(201);
  });
  afterAll(async () => srv.close());

  it('when FORCE_COLOR is set, a piped table is coloured; with FORCE_COLOR=0 or NO_COLOR alone, it is plain', async () => {
    const [forced, forcedOverNoColour, off, noColour, plain] = await Promise.all([
      herald(['incident:list'], { env: srv.env(undefined, { FORCE_COLOR: '1' }) }),
      herald(['incident:list'], { env: srv.env(undefined, { FORCE_COLOR: '1', NO_COLOR: '1' }) }),
      herald(['incident:list'], { env: srv.env(undefined, { FORCE_COLOR: '0' }) }),
      herald(['incident:list'], { env: srv.env(undefined, { NO_COLOR: '1' }) }),
      herald(['incident:list'], { env: srv.env() }),
    ]);
    for (const r of [forced, forcedOverNoColour, off, noColour, plain]) expect(r.code, r.stderr).toBe(0);
    expect(forced.stdout).toMatch(ANSI);
    expect(forced.stdout).toContain('\u001b[1mID\u001b[22m');
    expect(forced.stdout).toContain('\u001b[31minvestigating\u001b[39m');
    expect(forcedOverNoColour.stdout).toBe(forced.stdout);
    for (const r of [off, noColour, plain]) {
      expect(r.stdout).not.toMatch(ANSI);
      expect(r.stdout).toMatch(/^ID {2}KIND {6}STATE +STARTED/);
    }
  });
});
