import type { Matcher } from './alert.ts';

/**
 * Alertmanager's label matchers (issue 17): the text rules are written in, as Alertmanager 0.25
 * and amtool accept it: `{alertname="HighLatency", env!="dev"}`, `severity=~"critical|page"`,
 * `team=db`. Positions in error messages are 0-based offsets into the text.
 */

/**
 * Matching runs JavaScript's backtracking regex engine over alert labels, so a rule's text is
 * bounded: a value's length, the number of matchers, and (see regexHazard) the shapes
 * that take exponential time.
 */
export const MATCHER_LIMITS = { valueLength: 1_000, matchers: 50 } as const;

type MatchType = Matcher['type'];

/** Longest first, so `=~` is not read as `=` followed by a value starting with `~`. */
const OPERATORS: readonly MatchType[] = ['=~', '!~', '!=', '='];

const NAME_START = /[a-zA-Z_]/;
const NAME_PART = /[a-zA-Z0-9_]/;
const SPACE = /\s/;
/** Characters an unquoted value cannot hold: they end it, or belong to the syntax around it. */
const OUTSIDE_UNQUOTED = new Set([',', '{', '}', '"', '\\']);

/** The matchers the text lists, or the first place it departs from the syntax. */
export function parseMatchers(text: string): Matcher[] | { error: string } {
  try {
    return new MatcherReader(text).readAll();
  } catch (e) {
    if (e instanceof MatcherSyntaxError) return { error: e.message };
    throw e;
  }
}

/**
 * Whether every matcher holds for the labels, as Alertmanager decides it: a missing label reads
 * as the empty string, and a regex must match the whole value. A regex that does not compile
 * (one that did not come through parseMatchers) matches nothing, whichever its operator.
 */
export function matches(matchers: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((m) => holds(m, Object.hasOwn(labels, m.name) ? (labels[m.name] ?? '') : ''));
}

/** Canonical text, `{a="b", c=~"x|y"}`, which parseMatchers reads back to the same matchers. */
export function formatMatchers(matchers: readonly Matcher[]): string {
  return `{${matchers.map((m) => `${m.name}${m.type}${quote(m.value)}`).join(', ')}}`;
}

function holds(m: Matcher, value: string): boolean {
  switch (m.type) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~': {
      const re = compiledRegex(m);
      return re !== null && re.test(value);
    }
    case '!~': {
      const re = compiledRegex(m);
      return re !== null && !re.test(value);
    }
  }
}

function quote(value: string): string {
  return `"${value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`;
}

const compiled = new WeakMap<Matcher, RegExp | null>();

function compiledRegex(m: Matcher): RegExp | null {
  let re = compiled.get(m);
  if (re === undefined) {
    const result = anchoredRegex(m.value);
    re = result instanceof RegExp ? result : null;
    compiled.set(m, re);
  }
  return re;
}

/**
 * Go's `(?i)` and `(?s)` at the start of a regex are common in Alertmanager rules; JavaScript
 * (in Node 20) has no inline flags, so they become the RegExp's flags.
 */
const LEADING_FLAGS = /^\(\?([is]+)\)/;

/** `^(?:re)$`, as Alertmanager anchors it; or why the regex does not compile. */
function anchoredRegex(value: string): RegExp | { reason: string } {
  const flags = LEADING_FLAGS.exec(value);
  const source = flags ? value.slice(flags[0].length) : value;
  const flagText = flags ? [...new Set(flags[1])].join('') : '';
  try {
    // Compiled alone first: `a)|(b` compiles once wrapped, with its anchors split apart.
    new RegExp(source, flagText);
    return new RegExp(`^(?:${source})$`, flagText);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { reason: message.slice(message.lastIndexOf(': ') + 1).trim() };
  }
}

/**
 * What in a regex is RE2's (Alertmanager's engine) to refuse or a backtracking engine's to fear:
 * a repeated group holding a repetition of its own, `(a+)+`, which takes exponential time on a
 * near miss; backreferences and lookarounds, which RE2 does not have. Bounded counts
 * (`(\d{1,3}\.){3}`) are let through. Overlapping alternatives under one repetition (`(a|a)*`)
 * are not caught.
 */
function regexHazard(source: string): string | null {
  const groups: { repeats: boolean }[] = [{ repeats: false }];
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') {
      if (/[1-9k]/.test(source[i + 1] ?? '')) return 'a backreference, which Alertmanager does not have';
      i += 2;
    } else if (c === '[') {
      i = afterClass(source, i);
    } else if (c === '(') {
      if (/^\(\?<?[=!]/.test(source.slice(i, i + 4))) return 'a lookaround, which Alertmanager does not have';
      groups.push({ repeats: false });
      i += 1;
    } else if (c === ')' && groups.length > 1) {
      const group = groups.pop()!;
      const q = quantifierAt(source, i + 1);
      if (group.repeats && q.unbounded) return 'a repetition inside a repetition, like (a+)+, which can take exponential time';
      if (group.repeats || q.unbounded) groups[groups.length - 1]!.repeats = true;
      i += 1 + q.length;
    } else {
      const q = quantifierAt(source, i);
      if (q.unbounded) groups[groups.length - 1]!.repeats = true;
      i += Math.max(1, q.length);
    }
  }
  return null;
}

function afterClass(source: string, open: number): number {
  let i = open + 1;
  if (source[i] === '^') i += 1;
  if (source[i] === ']') i += 1;
  while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
  return i + 1;
}

const COUNTED = /\{\d+(,\d*)?\}/y;

function quantifierAt(source: string, i: number): { length: number; unbounded: boolean } {
  const c = source[i];
  if (c === '*' || c === '+') return { length: 1, unbounded: true };
  if (c === '?') return { length: 1, unbounded: false };
  COUNTED.lastIndex = i;
  const counted = COUNTED.exec(source);
  if (counted) return { length: counted[0].length, unbounded: counted[1] === ',' };
  return { length: 0, unbounded: false };
}

class MatcherSyntaxError extends Error {}

class MatcherReader {
  private pos = 0;
  private braced = false;

  constructor(private readonly text: string) {}

  readAll(): Matcher[] {
    const matchers: Matcher[] = [];
    this.skipSpace();
    if (this.peek() === '{') {
      this.braced = true;
      this.pos += 1;
    }
    let expectingMatcher = true;
    for (;;) {
      this.skipSpace();
      if (this.atEnd() || (this.braced && this.peek() === '}')) break;
      if (!expectingMatcher) this.fail(`expected "," or ${this.closing()}`);
      if (matchers.length === MATCHER_LIMITS.matchers) this.fail(`expected at most ${MATCHER_LIMITS.matchers} matchers`);
      matchers.push(this.readMatcher());
      this.skipSpace();
      expectingMatcher = this.peek() === ',';
      if (expectingMatcher) this.pos += 1;
    }
    if (this.braced) {
      if (this.peek() !== '}') this.fail(matchers.length === 0 || expectingMatcher ? 'expected a label name or "}"' : 'expected "," or "}"');
      this.pos += 1;
      this.skipSpace();
      if (!this.atEnd()) this.fail('expected the end after "}"');
    }
    return matchers;
  }

  private readMatcher(): Matcher {
    const name = this.readName();
    this.skipSpace();
    const type = OPERATORS.find((op) => this.text.startsWith(op, this.pos));
    if (type === undefined) this.fail('expected one of =, !=, =~, !~');
    this.pos += type.length;
    this.skipSpace();
    const valueAt = this.pos;
    const value = this.peek() === '"' ? this.readQuoted() : this.readUnquoted();
    if (value.length > MATCHER_LIMITS.valueLength) {
      this.fail(`expected a value of at most ${MATCHER_LIMITS.valueLength.toLocaleString('en')} characters`, valueAt);
    }
    if (type === '=~' || type === '!~') this.checkRegex(value, valueAt);
    return { name, type, value };
  }

  private readName(): string {
    const start = this.pos;
    if (!NAME_START.test(this.peek())) this.fail('expected a label name');
    while (NAME_PART.test(this.peek())) this.pos += 1;
    return this.text.slice(start, this.pos);
  }

  /**
   * `\"`, `\\` and `\n` are escapes; any other backslash stays as written, as Alertmanager 0.25
   * reads it, so `"\d+"` keeps its meaning as a regex.
   */
  private readQuoted(): string {
    const open = this.pos;
    this.pos += 1;
    let value = '';
    for (;;) {
      if (this.atEnd()) this.fail(`expected a closing " for the value opened at ${open}`);
      const c = this.text[this.pos++]!;
      if (c === '"') return value;
      if (c !== '\\') {
        value += c;
        continue;
      }
      if (this.atEnd()) this.fail(`expected a closing " for the value opened at ${open}`);
      const escaped = this.text[this.pos++]!;
      value += escaped === 'n' ? '\n' : escaped === '"' || escaped === '\\' ? escaped : `\\${escaped}`;
    }
  }

  /** amtool's `team=db`: up to the next comma (or closing brace), without surrounding space. */
  private readUnquoted(): string {
    const start = this.pos;
    while (!this.atEnd() && !OUTSIDE_UNQUOTED.has(this.peek())) this.pos += 1;
    const ends = this.atEnd() || this.peek() === ',' || (this.braced && this.peek() === '}');
    if (!ends) this.fail(`expected "," or ${this.closing()}; quote a value that holds ${this.peek()}`);
    return this.text.slice(start, this.pos).trimEnd();
  }

  private checkRegex(value: string, valueAt: number): void {
    const compiled = anchoredRegex(value);
    if (!(compiled instanceof RegExp)) this.fail(`expected a regular expression that compiles: ${compiled.reason}`, valueAt);
    const hazard = regexHazard(value);
    if (hazard !== null) this.fail(`expected a regular expression without ${hazard}`, valueAt);
  }

  private closing(): string {
    return this.braced ? '"}"' : 'the end';
  }

  private skipSpace(): void {
    while (SPACE.test(this.peek())) this.pos += 1;
  }

  private peek(): string {
    return this.text[this.pos] ?? '';
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private fail(expected: string, at = this.pos): never {
    throw new MatcherSyntaxError(`at ${at}: ${expected}`);
  }
}
