import { describe, expect, it } from 'vitest';
import type { Matcher } from '../../src/intake/alert.ts';
import { formatMatchers, matches, parseMatchers } from '../../src/intake/matchers.ts';

/** The matchers of text that must parse; fails the test with the parser's message otherwise. */
function parsed(text: string): Matcher[] {
  const result = parseMatchers(text);
  if (!Array.isArray(result)) throw new Error(`${JSON.stringify(text)} did not parse: ${result.error}`);
  return result;
}

describe('parseMatchers: lists it reads', () => {
  it('reads a single quoted regex matcher', () => {
    expect(parsed('severity=~"critical|page"')).toEqual([{ name: 'severity', type: '=~', value: 'critical|page' }]);
  });

  it('reads a braced, comma-separated list', () => {
    expect(parsed('{alertname="HighLatency", env!="dev"}')).toEqual([
      { name: 'alertname', type: '=', value: 'HighLatency' },
      { name: 'env', type: '!=', value: 'dev' },
    ]);
  });

  it('reads each of the four operators', () => {
    expect(parsed('a="1",b!="2",c=~"3",d!~"4"').map((m) => m.type)).toEqual(['=', '!=', '=~', '!~']);
  });

  it('reads unquoted values as amtool does', () => {
    expect(parsed('team=db')).toEqual([{ name: 'team', type: '=', value: 'db' }]);
  });

  it('reads an unquoted regex up to the next comma, without the space around it', () => {
    expect(parsed('{ env !~ dev|test , team = db }')).toEqual([
      { name: 'env', type: '!~', value: 'dev|test' },
      { name: 'team', type: '=', value: 'db' },
    ]);
  });

  it('allows whitespace around every token, including newlines', () => {
    expect(parsed(' {\n  alertname = "A" ,\n\tenv=~ "p.*"\n} ')).toEqual([
      { name: 'alertname', type: '=', value: 'A' },
      { name: 'env', type: '=~', value: 'p.*' },
    ]);
  });

  it('reads label names with underscores and digits', () => {
    expect(parsed('_team_2="x"')).toEqual([{ name: '_team_2', type: '=', value: 'x' }]);
  });

  it('unescapes \\" and \\\\ in quoted values', () => {
    expect(parsed('summary="say \\"hi\\" from C:\\\\temp"')[0]?.value).toBe('say "hi" from C:\\temp');
  });

  it('reads \\n in a quoted value as a newline', () => {
    expect(parsed('summary="one\\ntwo"')[0]?.value).toBe('one\ntwo');
  });

  it('keeps any other backslash as written, as Alertmanager 0.25 does, so regex escapes survive', () => {
    expect(parsed('path=~"/api/v\\d+\\.json"')[0]?.value).toBe('/api/v\\d+\\.json');
  });

  it('keeps commas, braces and operators inside quoted values', () => {
    expect(parsed('{summary="a, {b} != c"}')[0]?.value).toBe('a, {b} != c');
  });

  it('reads an empty quoted or unquoted value as the empty string', () => {
    expect(parsed('a="", b=')).toEqual([
      { name: 'a', type: '=', value: '' },
      { name: 'b', type: '=', value: '' },
    ]);
  });

  it('reads an empty string, blank text and empty braces as no matchers', () => {
    expect([parsed(''), parsed('   '), parsed('{}'), parsed(' { } ')]).toEqual([[], [], [], []]);
  });

  it('allows one trailing comma', () => {
    expect(parsed('{a="b",}')).toEqual([{ name: 'a', type: '=', value: 'b' }]);
  });

  it('accepts a regex with bounded repetition inside a group', () => {
    expect(parsed('instance=~"(\\\\d{1,3}\\\\.){3}\\\\d{1,3}:9100"')[0]?.value).toBe('(\\d{1,3}\\.){3}\\d{1,3}:9100');
  });

  it('accepts a value of exactly 1,000 characters', () => {
    expect(parsed(`a="${'x'.repeat(1000)}"`)[0]?.value).toHaveLength(1000);
  });

  it('accepts exactly 50 matchers', () => {
    const text = Array.from({ length: 50 }, (_, i) => `l${i}="v"`).join(',');
    expect(parsed(text)).toHaveLength(50);
  });
});

describe('parseMatchers: errors name the position and what was expected', () => {
  it.each([
    ['alertname>5', 'at 9: expected one of =, !=, =~, !~'],
    ['alertname', 'at 9: expected one of =, !=, =~, !~'],
    ['a-b="c"', 'at 1: expected one of =, !=, =~, !~'],
    ['a=="b"', 'at 3: expected "," or the end; quote a value that holds "'],
    ['1abc="x"', 'at 0: expected a label name'],
    ['="x"', 'at 0: expected a label name'],
    [',', 'at 0: expected a label name'],
    ['{a="b",,c="d"}', 'at 7: expected a label name'],
    ['{', 'at 1: expected a label name or "}"'],
    ['{a="b",', 'at 7: expected a label name or "}"'],
    ['{a="b"', 'at 6: expected "," or "}"'],
    ['{a="b" c="d"}', 'at 7: expected "," or "}"'],
    ['a="b" c="d"', 'at 6: expected "," or the end'],
    ['a="b"}', 'at 5: expected "," or the end'],
    ['a=b}', 'at 3: expected "," or the end; quote a value that holds }'],
    ['{a=b"c"}', 'at 4: expected "," or "}"; quote a value that holds "'],
    ['a=x\\y', 'at 3: expected "," or the end; quote a value that holds \\'],
    ['{a="b"} x', 'at 8: expected the end after "}"'],
    ['{a="b"}}', 'at 7: expected the end after "}"'],
    ['a="unclosed', 'at 11: expected a closing " for the value opened at 2'],
    ['a="x\\"', 'at 6: expected a closing " for the value opened at 2'],
    ['a="x\\', 'at 5: expected a closing " for the value opened at 2'],
  ])('%s → %s', (text, error) => {
    expect(parseMatchers(text)).toEqual({ error });
  });

  it('refuses a regex that does not compile, at its value', () => {
    expect(parseMatchers('env=~"(prod"')).toEqual({ error: 'at 5: expected a regular expression that compiles: Unterminated group' });
  });

  it('refuses an unbalanced regex that would compile once wrapped in anchors', () => {
    expect(parseMatchers('env=~"a)|(b"')).toEqual({ error: "at 5: expected a regular expression that compiles: Unmatched ')'" });
  });

  it('checks !~ values as regexes too', () => {
    expect(parseMatchers('env!~"["')).toEqual({ error: 'at 5: expected a regular expression that compiles: Unterminated character class' });
  });

  it('does not treat = and != values as regexes', () => {
    expect(parsed('env="(", team!="["')).toHaveLength(2);
  });

  it('refuses a repetition inside a repetition, the shape that backtracks exponentially', () => {
    for (const regex of ['(a+)+', '(x*y)*', '((a+){2})+', '(?:\\\\d+\\\\.)+']) {
      expect(parseMatchers(`host=~"${regex}"`)).toEqual({
        error: 'at 6: expected a regular expression without a repetition inside a repetition, like (a+)+, which can take exponential time',
      });
    }
  });

  it('refuses an unbounded count on a group holding a repetition, however many digits it has', () => {
    expect(parseMatchers(`host=~"(a+){${'9'.repeat(30)},}"`)).toEqual({
      error: 'at 6: expected a regular expression without a repetition inside a repetition, like (a+)+, which can take exponential time',
    });
  });

  it('refuses a backreference, which Alertmanager does not have', () => {
    expect(parseMatchers('host=~"(a)\\\\1"')).toEqual({ error: 'at 6: expected a regular expression without a backreference, which Alertmanager does not have' });
  });

  it('refuses lookarounds, which Alertmanager does not have', () => {
    for (const regex of ['(?=a)a', '(?!b)a', '(?<=a)b', '(?<!a)b']) {
      expect(parseMatchers(`host=~"${regex}"`)).toEqual({ error: 'at 6: expected a regular expression without a lookaround, which Alertmanager does not have' });
    }
  });

  it('accepts named groups and escaped brackets, which are neither', () => {
    expect(parsed('host=~"(?<site>[a-z]+)-\\(\\d\\)"')).toHaveLength(1);
  });

  it('refuses a value of 1,001 characters', () => {
    expect(parseMatchers(`{a="ok", b="${'x'.repeat(1001)}"}`)).toEqual({ error: 'at 11: expected a value of at most 1,000 characters' });
  });

  it('refuses a 51st matcher, at its start', () => {
    const text = Array.from({ length: 51 }, (_, i) => `l${i}="v"`).join(',');
    const at = text.indexOf('l50=');
    expect(parseMatchers(text)).toEqual({ error: `at ${at}: expected at most 50 matchers` });
  });
});

describe('matches: Alertmanager semantics', () => {
  it('an equality matcher compares the whole value', () => {
    const ms = parsed('env="prod"');
    expect([matches(ms, { env: 'prod' }), matches(ms, { env: 'production' })]).toEqual([true, false]);
  });

  it('a regex is anchored at both ends', () => {
    const ms = parsed('env=~"prod"');
    expect([matches(ms, { env: 'prod' }), matches(ms, { env: 'production' }), matches(ms, { env: 'preprod' })]).toEqual([true, false, false]);
  });

  it('anchors an alternation as a whole, not its first and last branch', () => {
    const ms = parsed('severity=~"critical|page"');
    expect([matches(ms, { severity: 'page' }), matches(ms, { severity: 'criticality' }), matches(ms, { severity: 'xpage' })]).toEqual([true, false, false]);
  });

  it('a regex matches more than a literal when it says so', () => {
    expect(matches(parsed('env=~"prod.*"'), { env: 'production' })).toBe(true);
  });

  it('a missing label is the empty string: != matches an alert without it', () => {
    expect(matches(parsed('env!="prod"'), { alertname: 'A' })).toBe(true);
  });

  it('a missing label is the empty string: ="" matches absence and nothing else', () => {
    const ms = parsed('env=""');
    expect([matches(ms, {}), matches(ms, { env: 'prod' })]).toEqual([true, false]);
  });

  it('a missing label is the empty string: =~".+" needs the label, =~".*" does not', () => {
    expect([matches(parsed('env=~".+"'), {}), matches(parsed('env=~".*"'), {})]).toEqual([false, true]);
  });

  it('!~ matches values the regex does not match whole, and absence', () => {
    const ms = parsed('env!~"dev|test"');
    expect([matches(ms, { env: 'prod' }), matches(ms, { env: 'dev' }), matches(ms, { env: 'devops' }), matches(ms, {})]).toEqual([true, false, true, true]);
  });

  it('every matcher of the list must hold', () => {
    const ms = parsed('{alertname="HighLatency", env="prod"}');
    expect([matches(ms, { alertname: 'HighLatency', env: 'prod' }), matches(ms, { alertname: 'HighLatency', env: 'dev' })]).toEqual([true, false]);
  });

  it('an empty list matches every alert', () => {
    expect(matches([], { anything: 'at all' })).toBe(true);
  });

  it('does not read labels from Object.prototype', () => {
    expect([matches(parsed('constructor=""'), {}), matches(parsed('toString=~".+"'), {})]).toEqual([true, false]);
  });

  it("turns Go's leading (?i) into a case-insensitive regex", () => {
    expect(matches(parsed('severity=~"(?i)critical"'), { severity: 'CRITICAL' })).toBe(true);
  });

  it('a hand-made matcher whose regex does not compile matches nothing, with either operator', () => {
    const labels = { env: 'prod' };
    expect([matches([{ name: 'env', type: '=~', value: '(' }], labels), matches([{ name: 'env', type: '!~', value: '(' }], labels)]).toEqual([false, false]);
  });
});

describe('formatMatchers', () => {
  it('writes the canonical braced text, every value quoted', () => {
    expect(formatMatchers(parsed('a=b,c=~x|y'))).toBe('{a="b", c=~"x|y"}');
  });

  it('writes no matchers as empty braces', () => {
    expect(formatMatchers([])).toBe('{}');
  });

  it('escapes quotes, backslashes and newlines', () => {
    expect(formatMatchers([{ name: 'm', type: '=', value: 'say "hi"\nC:\\temp' }])).toBe('{m="say \\"hi\\"\\nC:\\\\temp"}');
  });

  it('round-trips through parseMatchers', () => {
    const ms: Matcher[] = [
      { name: 'alertname', type: '=', value: 'HighLatency' },
      { name: 'env', type: '!=', value: '' },
      { name: 'path', type: '=~', value: '/api/v\\d+\\.json|"quoted"' },
      { name: 'msg', type: '!=', value: 'a, {b}\nc\\' },
      { name: 'stage', type: '!~', value: '"?(dev|test)"?' },
      { name: 'odd', type: '=', value: '\\n is not a newline here' },
    ];
    expect(parseMatchers(formatMatchers(ms))).toEqual(ms);
  });
});
