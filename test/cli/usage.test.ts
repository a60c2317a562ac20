import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { COMMAND_NAMES, commandHelp } from '../../src/cli/registry.ts';
import { runClientCommand } from '../../src/cli/run.ts';
import { herald } from './harness.ts';

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** runClientCommand with pipes for streams (what bin/herald.js runs, minus the process). */
async function inProcess(argv: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const [command, ...rest] = argv;
  const code = await runClientCommand(command!, rest, {
    stdin: Readable.from([]),
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
  });
  return { code, stdout, stderr, lines: stderr.split('\n').slice(0, -1) };
}

const TOKEN = `hrd_${'0'.repeat(12)}_${'x'.repeat(43)}`;

/** The CLI's help, usage errors (exit 2) and an unreachable server (exit 1): no server needed. */
describe('herald CLI: help, usage errors, unreachable server', () => {
  it('every command has --help with its usage and an example', () => {
    for (const name of COMMAND_NAMES) {
      const help = commandHelp(name);
      expect(help, name).toContain(`Usage: herald ${name}`);
      expect(help, name).toMatch(/\nExamples?:\n  \$ herald |\nExamples?:\n  \$ .*herald /);
    }
    expect(COMMAND_NAMES).toEqual(
      expect.arrayContaining([
        'maintenance:status',
        'maintenance:on',
        'maintenance:off',
        'incident:open',
        'incident:update',
        'incident:resolve',
        'incident:show',
        'incident:list',
        'postmortem:publish',
        'maintenances:info',
        'maintenances:run',
        'maintenances:window:update',
        'token:create',
        'token:revoke',
        'serve',
        'migrate',
        'gate',
      ]),
    );
  });

  it('--idempotency-key is offered by the writes that send one, and not by the token and console-link commands, whose routes take none', async () => {
    expect(commandHelp('incident:update')).toContain('--idempotency-key KEY');
    expect(commandHelp('maintenance:on')).toContain('--idempotency-key KEY');
    for (const name of ['console:link', 'token:revoke', 'token:list']) expect(commandHelp(name), name).not.toContain('--idempotency-key');
    const refused = await inProcess(['console:link', '--idempotency-key', 'k1'], { HERALD_URL: 'http://127.0.0.1:9', HERALD_TOKEN: TOKEN });
    expect(refused.code).toBe(2);
  });

  it('prints help on stdout with exit 0, and refuses a wrong command line with one line and exit 2', async () => {
    const env = { HERALD_URL: 'http://127.0.0.1:3', HERALD_TOKEN: TOKEN };
    const [help, openHelp, serveHelp, helpRun, noUrl, unknownFlag, missing, noToken, unknownCommand] = await Promise.all([
      herald(['help']),
      herald(['incident:open', '--help']),
      herald(['serve', '--help']), // help, not a server
      herald(['help', 'maintenances:run']),
      herald(['incident:list']),
      herald(['incident:list', '--colour'], { env }),
      herald(['incident:open', '--title', 'Database failover'], { env }),
      herald(['incident:resolve', '7'], { env: { HERALD_URL: env.HERALD_URL } }),
      herald(['incident:frobnicate'], { env }),
    ]);

    expect(help.code).toBe(0);
    for (const name of ['maintenance:status (maintenance)', 'incident:open', 'postmortem:publish', 'maintenances:window:update', 'token:revoke']) expect(help.stdout).toContain(name);
    expect(openHelp).toMatchObject({ code: 0, stderr: '' });
    expect(openHelp.stdout).toMatch(/^Usage: herald incident:open --title TITLE --message TEXT/);
    expect(openHelp.stdout).toContain('$ ID=$(herald incident:open --title');
    expect(serveHelp).toMatchObject({ code: 0, stderr: '' });
    expect(serveHelp.stdout).toMatch(/^Usage: herald serve\n/);
    expect(helpRun.code).toBe(0);
    expect(helpRun.stdout).toContain('--confirm NAME');

    const usage = (r: { code: number | null; stdout: string; lines: string[]; stderr: string }, first: string) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.lines[0]).toBe(first);
    };
    usage(noUrl, 'herald: no Herald server given: set HERALD_URL or pass --url URL (e.g. http://localhost:3000)');
    expect(noUrl.lines.slice(1)).toEqual(['Usage: herald incident:list [--state open|closed|all] [--kind incident|maintenance] [--limit N] [--cursor C] [--json]', 'See `herald incident:list --help`.']);
    usage(unknownFlag, 'herald: unknown option --colour');
    usage(missing, 'herald: incident:open needs --message (or --message-file)');
    usage(noToken, 'herald: this command needs an API token: set HERALD_TOKEN or pass --token (make one with `herald token:create`)');
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.lines[0]).toBe('herald: unknown command "incident:frobnicate"');

    // The rest of the command-line checks, in this process (the same code, without a process start-up each).
    const cases: [string[], string][] = [
      [['incident:list', '--url', 'ftp://example.com'], 'herald: --url must be an absolute http(s) URL (got "ftp://example.com")'],
      [['incident:update', 'abc', '--message', 'x'], 'herald: ID must be a positive number (got "abc")'],
      [['incident:update', '--message', 'x'], 'herald: incident:update needs ID'],
      [['incident:open', '--title', 't', '--message', 'm', '--status', 'production'], 'herald: --status takes NAME=VALUE, e.g. production=red (got "production")'],
      [['incident:open', '--title', 't', '--message', 'm', '--mode', 'web=full', '--mode', 'web=read_only'], 'herald: --mode names web twice'],
      [['incident:open', '--message', 'm', '--message-file', 'f.md', '--title', 't'], 'herald: give --message or --message-file, not both'],
      [['incident:open', '--title'], 'herald: --title needs a value'],
      [['incident:open', '--title', '-x'], 'herald: --title needs a value (for a value that starts with "-", write --title=VALUE)'],
      [['maintenance:on', '--mode', 'full'], 'herald: --mode must be maintenance or read_only (got "full"); use maintenance:off to return to full'],
      [['maintenance:status', '--role', 'web', '--all'], 'herald: give --role or --all, not both'],
      [['maintenance', '--json=yes'], 'herald: --json takes no value'],
      [['incident:update', '7', '--message-file', '/nonexistent/notes.md'], 'herald: cannot read --message-file /nonexistent/notes.md: no such file'],
      [['postmortem:publish', '7'], 'herald: postmortem:publish needs --file FILE'],
      [['incident:show', '1', '2'], 'herald: unexpected argument "2"'],
      [['incident:list', '--limit', 'ten'], 'herald: --limit must be a number (got "ten")'],
      [['maintenances:info', '3', '--all'], 'herald: --all lists every maintenance; give it without ID'],
      [['maintenances:window:update', 'Sunday'], 'herald: maintenances:window:update needs DAY HH:MM'],
      [['maintenances:window:update', 'Sunday', '14:30', '--duration-hours', 'lots'], 'herald: --duration-hours must be a number (got "lots")'],
      [['token:create', '--url', 'http://127.0.0.1:3', '--name', 'x'], 'herald: token:create needs --scopes LIST'],
    ];
    for (const [args, first] of cases) usage(await inProcess(args, env), first);
  });

  it('when the server cannot be reached, reads and writes fail with one line and exit 1', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const [read, write] = await Promise.all([
      herald(['maintenance'], { env: { HERALD_URL: url } }),
      herald(['incident:open', '--title', 'Down', '--message', 'Down.', '--url', url], { env: { HERALD_URL: 'https://ignored.example.com', HERALD_TOKEN: TOKEN } }),
    ]);
    for (const r of [read, write]) {
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`herald: cannot reach Herald at ${url} (ECONNREFUSED)\n`);
    }
  });
});
