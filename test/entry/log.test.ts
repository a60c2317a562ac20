import { describe, expect, it } from 'vitest';
import { createLogger, logLine } from '../../src/log.ts';
import { freshDatabase } from '../support/db.ts';
import { testApp } from '../support/app.ts';
import { consoleClient } from '../support/console.ts';
import { parseLogfmt } from '../support/logfmt.ts';

/** src/log.ts: Herald's one log format, checked with a strict logfmt parser. */
describe('log lines', () => {
  it('when values hold spaces, quotes, backslashes, newlines, "=" and control characters, the line parses and gives each value back exactly', () => {
    const values = {
      plain: 'ok',
      spaced: 'two words',
      quoted: 'she said "no"',
      backslash: 'C:\\data\\herald',
      newline: 'line one\nline two\r\n',
      tab: 'a\tb',
      equals: 'a=b',
      onlyEquals: '=',
      empty: '',
      escape: 'red \u001b[31m text',
      del: 'x\u007fy',
      c1: 'next\u0085line',
      separator: 'para\u2028graph',
      unicode: 'café – ✓',
      trailingBackslash: 'ends with \\',
      json: '{"a":[1,2]}',
    };
    const line = logLine('info', 'a "message" with = and \\ and\nnewline', values);
    expect(line).not.toMatch(/[\n\r\u007f-\u009f\u2028\u2029]/);
    const parsed = parseLogfmt(line);
    expect(parsed).toEqual({ level: 'info', msg: 'a "message" with = and \\ and\nnewline', ...values });
  });

  it('when fields are numbers, booleans, null or undefined, numbers and booleans are bare, null is "null" and undefined is left out', () => {
    const line = logLine('warn', 'scheduler', { started: 3, ok: true, none: null, missing: undefined });
    expect(line).toBe('level=warn msg=scheduler started=3 ok=true none=null');
  });

  it('when a key has characters logfmt cannot carry, they become "_", and level and msg cannot be overridden by fields', () => {
    const line = logLine('error', 'x', { 'two words': 1, 'a=b': 2, 'q"': 3, level: 'debug', msg: 'other' });
    expect(parseLogfmt(line)).toEqual({ level: 'error', msg: 'x', two_words: '1', a_b: '2', q_: '3' });
  });

  it('when a line would carry a secret or an email address, it carries a mask instead', () => {
    const token = `hrd_0123456789ab_${'A'.repeat(43)}`;
    const link = `${'h'.repeat(22)}.c.1796742915.${'M'.repeat(43)}`;
    const line = logLine('warn', `sign-in by alice@example.com with ${token}`, {
      token: 'anything at all',
      session_secret: 'abc',
      authorization: `Bearer ${token}`,
      error: `connect to postgres://herald:hunter2@db.internal:5432/herald failed for bob.smith+ops@mail.example.org`,
      url: 'https://status.example.com/console/incidents',
      path: `/subscriptions/confirm/${link}`,
    });
    expect(line).not.toContain(link);
    expect(line).not.toContain(token);
    expect(line).not.toContain('alice@example.com');
    expect(line).not.toContain('bob.smith+ops@mail.example.org');
    expect(line).not.toContain('hunter2');
    expect(line).not.toContain('anything at all');
    expect(parseLogfmt(line)).toEqual({
      level: 'warn',
      msg: 'sign-in by [email] with hrd_[redacted]',
      token: '[redacted]',
      session_secret: '[redacted]',
      authorization: '[redacted]',
      error: 'connect to postgres://[redacted]@db.internal:5432/herald failed for [email]',
      url: 'https://status.example.com/console/incidents',
      path: '/subscriptions/confirm/[link]',
    });
  });

  it('when a logger writes, each call is one whole line at its level', () => {
    const lines: string[] = [];
    const log = createLogger((l) => lines.push(l));
    log.info('listening', { url: 'http://localhost:3000' });
    log.error('unhandled error', { path: '/x y' });
    expect(lines).toEqual(['level=info msg=listening url=http://localhost:3000', 'level=error msg="unhandled error" path="/x y"']);
  });

  it('when the console refuses a sign-in or a cross-site form, its log lines are logfmt and carry neither the typed token nor a path that breaks the line', async () => {
    const handle = await freshDatabase();
    try {
      const t = await testApp(handle);
      const b = consoleClient(t, '198.51.100.77');
      await b.get('/console/signin');
      const typed = `hrd_0123456789ab_${'B'.repeat(43)}`;
      expect((await b.post('/console/signin', { token: typed, next: '/console/incidents' })).status).toBe(401);
      expect((await b.post('/console/say%20%22hi%22=1', {}, { origin: 'https://evil.example.net' })).status).toBe(403);
      const parsed = t.logs.map(parseLogfmt);
      expect(parsed).toEqual([
        { level: 'warn', msg: 'console: failed sign-in', address: '198.51.100.77' },
        { level: 'warn', msg: 'console: cross-site form refused', path: '/console/say "hi"=1' },
      ]);
      expect(t.logs.join('\n')).not.toContain(typed);
    } finally {
      await handle.close();
    }
  });
});
