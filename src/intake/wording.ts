import type { ReceivedAlert } from './alert.ts';

/**
 * What Herald writes on the timeline for alerts: a rule's templates, or the default wording. A
 * template is text with `{{ variable }}` holes, nothing more: a rule's author can name labels and
 * annotations, not run code. Variables:
 *
 * - `labels.NAME`, `annotations.NAME`: the value the alerts worded share (one alert: its own),
 *   as Alertmanager's CommonLabels; empty when they differ or none has it
 * - `count`: how many alerts are worded
 * - `alerts`: a Markdown bullet list of them: alertname, component, summary annotation
 *
 * and one filter, `{{ annotations.summary | default: "no summary" }}`, for an empty value. Any
 * other variable renders as empty, so a template stays valid whatever labels arrive. The output is
 * Markdown, not escaped: Herald sanitizes every message when it renders it. A default's text may
 * not contain `}}`, which always ends the hole.
 */

/** The longest title and message Herald stores (LIMITS in services/schemas.ts). */
export const TITLE_LIMIT = 200;
export const MESSAGE_LIMIT = 20_000;

/** An alert with the component the rule placed it on: the alert list names it. */
export interface WordedAlert {
  readonly alert: ReceivedAlert;
  readonly component: string;
}

export interface TemplateError {
  readonly message: string;
  /** 0-based index into the template's source. */
  readonly offset: number;
  /** 1-based, for people reading the template in an editor. */
  readonly line: number;
  readonly column: number;
}

type Part = { readonly text: string } | { readonly variable: readonly string[]; readonly defaults: readonly string[] };

export interface Template {
  readonly parts: readonly Part[];
}

export type ParsedTemplate = { readonly ok: true; readonly template: Template } | { readonly ok: false; readonly errors: readonly TemplateError[] };

const FILTERS = ['default'] as const;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const SPACE = /\s*/y;

/**
 * Reads a template, reporting every hole that is wrong (the first problem of each), so that a
 * rule is refused when it is saved rather than worded oddly during an outage.
 */
export function parseTemplate(source: string): ParsedTemplate {
  const parts: Part[] = [];
  const errors: TemplateError[] = [];
  let at = 0;
  while (at < source.length) {
    const open = source.indexOf('{{', at);
    if (open === -1) {
      parts.push({ text: source.slice(at) });
      break;
    }
    if (open > at) parts.push({ text: source.slice(at, open) });
    const close = source.indexOf('}}', open + 2);
    const reopen = source.indexOf('{{', open + 2);
    if (close === -1 || (reopen !== -1 && reopen < close)) {
      const before = close === -1 ? 'the end' : 'the next "{{"';
      errors.push(errorAt(source, open, `unclosed "{{": no "}}" before ${before}`));
      at = close === -1 ? source.length : reopen;
      continue;
    }
    const hole = parseHole(source, open, close, errors);
    if (hole) parts.push(hole);
    at = close + 2;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, template: { parts } };
}

/** One `{{ … }}`: a variable, then filters. `close` is the index of its `}}`. */
function parseHole(source: string, open: number, close: number, errors: TemplateError[]): Part | null {
  let at = skipSpace(source, open + 2);
  const fail = (offset: number, message: string): null => {
    errors.push(errorAt(source, offset, message));
    return null;
  };
  if (at >= close) return fail(open, 'empty "{{ }}": name a variable, e.g. {{ labels.alertname }}');

  const variable: string[] = [];
  for (;;) {
    const name = readName(source, at, close);
    if (name === null) return fail(at, `expected a variable such as labels.alertname, found ${found(source, at, close)}`);
    variable.push(name);
    at += name.length;
    if (source[at] !== '.') break;
    at++;
  }

  const defaults: string[] = [];
  let filterProblem = false;
  for (;;) {
    at = skipSpace(source, at);
    if (at >= close) break;
    if (source[at] !== '|') return fail(at, `expected "|" or "}}" after ${variable.join('.')}, found ${found(source, at, close)}`);
    at = skipSpace(source, at + 1);
    const filterAt = at;
    const filter = readName(source, at, close);
    if (filter === null) return fail(at, 'expected a filter after "|", e.g. default: "none"');
    at = skipSpace(source, at + filter.length);
    let argument: string | null = null;
    if (source[at] === ':') {
      at = skipSpace(source, at + 1);
      const text = readText(source, at, close);
      if ('problem' in text) return fail(at, text.problem);
      argument = text.value;
      at = text.end;
    }
    if (!(FILTERS as readonly string[]).includes(filter)) {
      errors.push(errorAt(source, filterAt, `unknown filter "${filter}" (known: ${FILTERS.join(', ')})`));
      filterProblem = true;
    } else if (argument === null) {
      errors.push(errorAt(source, filterAt, 'default needs a text, e.g. default: "none"'));
      filterProblem = true;
    } else {
      defaults.push(argument);
    }
  }
  return filterProblem ? null : { variable, defaults };
}

function found(source: string, at: number, close: number): string {
  const rest = source.slice(at, close).trim();
  return rest ? `"${rest}"` : 'nothing';
}

function skipSpace(source: string, at: number): number {
  SPACE.lastIndex = at;
  SPACE.test(source);
  return SPACE.lastIndex;
}

function readName(source: string, at: number, close: number): string | null {
  NAME.lastIndex = at;
  const found = NAME.exec(source);
  return found && at + found[0].length <= close ? found[0] : null;
}

/** A quoted text, "…" or '…'; a backslash takes the next character as it is. */
function readText(source: string, at: number, close: number): { value: string; end: number } | { problem: string } {
  const quote = source[at];
  if (at >= close || (quote !== '"' && quote !== "'")) return { problem: 'expected a quoted text after ":", e.g. "none"' };
  let value = '';
  for (let i = at + 1; i < close; i++) {
    const c = source[i]!;
    if (c === quote) return { value, end: i + 1 };
    if (c === '\\' && i + 1 < close) {
      i++;
      value += source[i];
    } else {
      value += c;
    }
  }
  return { problem: `unterminated text: no closing ${quote}` };
}

function errorAt(source: string, offset: number, message: string): TemplateError {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { message, offset, line, column };
}

/** Fills a template's holes from the alerts, cut to `limit` characters. */
export function renderTemplate(template: Template, alerts: readonly WordedAlert[], limit: number = MESSAGE_LIMIT): string {
  const scope = scopeOf(alerts);
  let out = '';
  for (const part of template.parts) {
    if ('text' in part) {
      out += part.text;
    } else {
      let value = lookUp(scope, part.variable);
      for (const fallback of part.defaults) if (value === '') value = fallback;
      out += value;
    }
    // A template repeating {{ alerts }} over a storm must not build megabytes only to cut them.
    if (out.length > limit) break;
  }
  return cut(out.replaceAll('\u0000', ''), limit);
}

interface Scope {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly alerts: readonly WordedAlert[];
}

function scopeOf(alerts: readonly WordedAlert[]): Scope {
  return {
    labels: shared(alerts.map((w) => w.alert.labels)),
    annotations: shared(alerts.map((w) => w.alert.annotations)),
    alerts,
  };
}

/** The entries every record has with the same value. */
function shared(records: readonly Readonly<Record<string, string>>[]): Record<string, string> {
  const [first, ...rest] = records;
  if (!first) return {};
  return Object.fromEntries(Object.entries(first).filter(([k, v]) => rest.every((r) => Object.hasOwn(r, k) && r[k] === v)));
}

function lookUp(scope: Scope, variable: readonly string[]): string {
  const [root, name, ...deeper] = variable;
  if (deeper.length > 0) return '';
  if (root === 'count' && name === undefined) return String(scope.alerts.length);
  if (root === 'alerts' && name === undefined) return alertList(scope.alerts);
  if ((root === 'labels' || root === 'annotations') && name !== undefined) {
    const values = scope[root];
    return Object.hasOwn(values, name) ? values[name]! : '';
  }
  return '';
}

/** `- HighErrorRate (api): Error rate above 5%`, one line per alert whatever the summary's lines. */
export function alertList(alerts: readonly WordedAlert[]): string {
  return alerts
    .map(({ alert, component }) => {
      const name = oneLine(alert.labels.alertname ?? '') || 'Unnamed alert';
      const summary = oneLine(alert.annotations.summary ?? '');
      return `- ${name} (${component})${summary ? `: ${summary}` : ''}`;
    })
    .join('\n');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** At most `limit` characters, the last an ellipsis when cut, never half a surrogate pair. */
function cut(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let end = limit - 1;
  if (/[\uD800-\uDBFF]/.test(text[end - 1] ?? '')) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * The default wording, after the first line of the June 2012 Heroku outage timeline. The list
 * goes on its own paragraph: Markdown reads a "- " after a colon on the same line as text.
 */
export const DEFAULT_WORDING = {
  opened: 'Our automated systems have detected potential platform errors. We are investigating.\n\n{{ alerts }}',
  added: 'Our automated systems see more:\n\n{{ alerts }}',
  /** After a recovery was posted, the incident still open: the same errors, back. */
  again: 'Our automated systems see errors again:\n\n{{ alerts }}',
  recovered: 'Our automated systems see recovery. A commander will confirm before this incident is resolved.',
  resolving: 'Our automated systems see recovery; resolving.',
} as const;

export type Occasion = keyof typeof DEFAULT_WORDING;

/**
 * A message for the timeline: the rule's template if it has one and it says something, else the
 * default wording. A template that no longer parses (it was checked when saved) falls back too:
 * an outage is not the moment to refuse an update.
 */
export function messageFor(occasion: Occasion, custom: string | null, alerts: readonly WordedAlert[]): string {
  const own = custom === null ? '' : renderSource(custom, alerts, MESSAGE_LIMIT).trim();
  return own || renderSource(DEFAULT_WORDING[occasion], alerts, MESSAGE_LIMIT).trim();
}

/**
 * An incident's title, on one line: the rule's template, else the alertname ("HighErrorRate and
 * 2 more" for several), else `fallback` (the rule's name) when no alert has an alertname.
 */
export function titleFor(custom: string | null, alerts: readonly WordedAlert[], fallback: string): string {
  const own = custom === null ? '' : oneLine(renderSource(custom, alerts, MESSAGE_LIMIT));
  return cut(own || defaultTitle(alerts) || oneLine(fallback), TITLE_LIMIT);
}

function defaultTitle(alerts: readonly WordedAlert[]): string {
  const names = [...new Set(alerts.map((w) => oneLine(w.alert.labels.alertname ?? '')).filter((n) => n !== ''))];
  const [first] = names;
  if (first === undefined) return '';
  return names.length === 1 ? first : `${first} and ${names.length - 1} more`;
}

function renderSource(source: string, alerts: readonly WordedAlert[], limit: number): string {
  const parsed = parseTemplate(source);
  return parsed.ok ? renderTemplate(parsed.template, alerts, limit) : '';
}
