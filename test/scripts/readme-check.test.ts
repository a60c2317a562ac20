// The extraction, rewriting and comparison behind `npm run check:readme` (scripts/check-readme.ts),
// on made-up Markdown: no server, no README.
import { describe, expect, it } from 'vitest';
import {
  compareOutput,
  extractBlocks,
  isBackground,
  lineDiff,
  normalize,
  portsIn,
  promptAnswer,
  rewriteCommand,
  unmapActual,
} from '../../scripts/readme-check-lib.ts';

const fence = '```';

describe('extractBlocks', () => {
  it('splits console blocks into commands and the output after each, with the directives right before', () => {
    const md = [
      '# Title',
      '',
      `${fence}sh`,
      'npm start',
      fence,
      '',
      '<!-- readme-check: fresh -->',
      '<!-- readme-check: before: herald serve & -->',
      '',
      `${fence}console`,
      '$ echo hi',
      'hi',
      '',
      '$ export X=1',
      '',
      '$ printf "a\\n\\nb\\n"',
      'a',
      '',
      'b',
      '',
      fence,
      '',
      '- a list item:',
      '',
      `  ${fence}console`,
      '  $ herald --version',
      '  herald/0.1.0 linux-x64 node-v20.20.2',
      `  ${fence}`,
    ].join('\n');
    const blocks = extractBlocks(md);
    expect(blocks.map((b) => [b.lang, b.line])).toEqual([
      ['sh', 3],
      ['console', 10],
      ['console', 25],
    ]);
    const [, first, second] = blocks;
    expect(first!.directives).toEqual([{ kind: 'fresh' }, { kind: 'before', command: 'herald serve &' }]);
    expect(first!.commands).toEqual([
      { command: 'echo hi', expected: ['hi'], line: 11 },
      { command: 'export X=1', expected: [], line: 14 },
      { command: 'printf "a\\n\\nb\\n"', expected: ['a', '', 'b'], line: 16 },
    ]);
    expect(second!.commands).toEqual([{ command: 'herald --version', expected: ['herald/0.1.0 linux-x64 node-v20.20.2'], line: 26 }]);
  });

  it('reads skip (with its reason) and file directives, and refuses what it does not know', () => {
    const md = ['<!-- readme-check: skip (needs a Cloudflare account) -->', `${fence}console`, '$ npx wrangler deploy', fence, '<!-- readme-check: file notes.md -->', `${fence}markdown`, '# Notes', fence].join('\n');
    const [deploy, notes] = extractBlocks(md);
    expect(deploy!.directives).toEqual([{ kind: 'skip', reason: 'needs a Cloudflare account' }]);
    expect(notes!.directives).toEqual([{ kind: 'file', name: 'notes.md' }]);
    expect(notes!.body).toEqual(['# Notes']);
    expect(extractBlocks('<!-- readme-check: pause 1.5 (the gate hears of a change a moment later) -->\n```console\n$ x\n```')[0]!.directives).toEqual([
      { kind: 'pause', seconds: 1.5, reason: 'the gate hears of a change a moment later' },
    ]);
    expect(() => extractBlocks('<!-- readme-check: skip -->\n```console\n$ x\n```')).toThrow(/reason/);
    expect(() => extractBlocks('<!-- readme-check: pause 1 -->\n```console\n$ x\n```')).toThrow(/reason/);
    expect(() => extractBlocks('<!-- readme-check: skipp (x) -->\n```console\n$ x\n```')).toThrow(/unknown directive/);
    expect(() => extractBlocks('<!-- readme-check: fresh -->\ntext\n```console\n$ x\n```')).toThrow(/right before/);
  });
});

describe('commands', () => {
  const ports = new Map([
    [3000, 41001],
    [8000, 41002],
    [8080, 41003],
  ]);

  it('finds the ports a command names', () => {
    expect(portsIn('herald gate --upstream http://127.0.0.1:8080 --port 8000 --herald http://localhost:3000').sort()).toEqual([3000, 8000, 8080]);
    expect(portsIn('PORT=8080 node up.js')).toEqual([8080]);
    expect(portsIn('herald incident:open --at 2026-11-21T04:12:00Z')).toEqual([]);
  });

  it('points npx herald / npm start at the herald on PATH, keeps the session token for hrd_…, and maps ports', () => {
    expect(rewriteCommand('npx herald token:create --name a', ports)).toBe('herald token:create --name a');
    expect(rewriteCommand('npm start', ports)).toBe('herald serve');
    expect(rewriteCommand('export HERALD_URL=http://localhost:3000 HERALD_TOKEN=hrd_…   # an admin token', ports)).toBe(
      'export HERALD_URL=http://localhost:41001 HERALD_TOKEN="$HERALD_TOKEN"   # an admin token',
    );
    expect(rewriteCommand('herald gate --upstream http://127.0.0.1:8080 --port 8000', ports)).toBe('herald gate --upstream http://127.0.0.1:41003 --port 41002');
    expect(rewriteCommand('curl -s localhost:3000/api/v1/incidents/42', ports)).toBe('curl -s localhost:41001/api/v1/incidents/42');
  });

  it('knows servers and prompts', () => {
    expect(isBackground('herald serve')).toBe(true);
    expect(isBackground('herald serve > serve.log 2>&1 &')).toBe(true);
    expect(isBackground('herald gate --upstream http://x --role web')).toBe(true);
    expect(isBackground('herald incident:list 2>&1')).toBe(false);
    expect(isBackground('a && b')).toBe(false);
    expect(promptAnswer(['Put web into maintenance? Its gates will refuse requests. [y/N] y', 'on'])).toBe('y');
    expect(promptAnswer(['on'])).toBeUndefined();
  });

  it('maps the chosen ports and the temp directory back in what was printed', () => {
    expect(unmapActual('url=http://localhost:41001 database=embedded:/tmp/h-1/session-1/data', ports, ['/tmp/h-1/session-1'])).toBe(
      'url=http://localhost:3000 database=embedded:./data',
    );
  });
});

describe('normalize and compareOutput', () => {
  it('takes out times, durations, secrets, tokens, pids, versions, migrations, colours and column widths', () => {
    expect(
      normalize(
        [
          '\x1b[1mlevel=info\x1b[0m msg=migrated applied=0001_initial.sql,0002_public_pages.sql\r',
          'url=http://localhost:3000/console/setup/jAdm5QwF9pOf9LbfzS5db7JNvnlwNgvdWGpvwDd1O48',
          'hrd_12_abc-DEF and hrd_…',
          'whsec_J7bmmy+6HyoINk/RmdYX7uFQjtVAdDvTDr3OrE2ovL0= sent msg_cf20dc1a6d47469a9b5df95b0c91a92b',
          'a running Herald server (pid 18204)',
          'Resolved: 2026-11-21 07:13 UTC, at 2026-11-21T06:04:37.272Z, impaired 3 hours 1 minute',
          'herald/0.1.0 linux-x64 node-v20.20.2',
          'ID  KIND      STATE   ',
          '',
        ].join('\n'),
      ),
    ).toBe(
      [
        'level=info msg=migrated applied=<migrations>',
        'url=http://localhost:3000/console/setup/<secret>',
        'hrd_<token> and hrd_<token>',
        'whsec_<secret> sent msg_<id>',
        'a running Herald server (pid <n>)',
        'Resolved: <time> UTC, at <time>, impaired <duration>',
        'herald/0.1.0 <platform> node-v<version>',
        'ID KIND STATE',
      ].join('\n'),
    );
  });

  it('compares JSON by keys and value types, strings after normalizing', () => {
    const readme = '{\n  "id": 1,\n  "at": "2026-11-21T02:25:00.000Z",\n  "statuses": {"production": "red"},\n  "resolved": true\n}';
    expect(compareOutput(readme, '{"resolved":false,"statuses":{"production":"red"},"at":"2026-11-30T23:01:02.003Z","id":7}').ok).toBe(true);
    const typo = compareOutput(readme, '{"id":"1","at":"2026-11-21T02:25:00.000Z","statuses":{"production":"yellow"},"resolved":true}');
    expect(typo.ok).toBe(false);
    expect(typo.mode).toBe('json');
    expect(lineDiff(typo.expected, typo.actual).filter((l) => !l.startsWith(' '))).toEqual([
      '-   "id": "<number>",',
      '+   "id": "1",',
      '-     "production": "red"',
      '+     "production": "yellow"',
    ]);
    expect(compareOutput('{"a": 1}', 'curl: (7) Failed to connect').ok).toBe(false);
  });

  it('compares other output as normalized text', () => {
    expect(compareOutput('Opened incident #1 "Database failover" (investigating).', 'Opened incident #1 "Database failover" (investigating).\n').ok).toBe(true);
    const c = compareOutput('web on\nworker off', 'web off\nworker off');
    expect(c.ok).toBe(false);
    expect(lineDiff(c.expected, c.actual)).toEqual(['- web on', '+ web off', '  worker off']);
  });
});
