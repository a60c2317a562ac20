import type { Context } from 'hono';
import type * as z from 'zod';
import { AppError, type FieldProblem } from '../../errors.ts';
import { problemsOf } from '../../services/schemas.ts';
import type { Deps } from '../../services/deps.ts';
import { sha256Hex } from '../../services/tokens.ts';
import type { Command } from '../../services/unit-of-work.ts';
import type { Errors } from '../../../templates/console/forms.tsx';
import type { ConsoleMeta } from '../../../templates/view.ts';
import { pageMeta } from '../view-models.ts';
import type { ConsoleEnv } from './session.ts';

/** Console helpers shared by its areas: forms in, pages out. */

export type Form = Readonly<Record<string, string | readonly string[]>>;

/** The posted form (url-encoded or multipart), every field's values kept; files are ignored. */
export async function readForm(c: Context): Promise<Form> {
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(body)) {
    const list = (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
    out[k] = list.length === 1 ? list[0]! : list;
  }
  return out;
}

/** One field's text ('' when absent). Browsers send CRLF in textareas; Markdown wants LF. */
export function text(form: Form, name: string): string {
  const v = form[name];
  const s = typeof v === 'string' ? v : (v?.[0] ?? '');
  return s.replace(/\r\n?/g, '\n');
}

export function list(form: Form, name: string): string[] {
  const v = form[name];
  return v === undefined ? [] : typeof v === 'string' ? [v] : [...v];
}

/** A checkbox that starts checked: on a form not posted yet it is on; once posted, it is what was sent. */
export const checkedUnlessPosted = (form: Form, name: string) => form._csrf === undefined || text(form, name) !== '';

/** Blank means "not given": the schema's default applies. */
export const optional = (s: string) => (s.trim() === '' ? undefined : s);

/**
 * A `datetime-local` value is a wall-clock time without a zone; the console labels every such
 * field "UTC", so it is read as UTC. Anything else goes through unchanged for the schema to judge.
 */
export function utcInput(value: string): string | undefined {
  const s = value.trim();
  if (s === '') return undefined;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(s)) return `${s.length === 16 ? `${s}:00` : s}Z`;
  return s;
}

/** Problems by field name, for showing each beside its field. */
export function errorsOf(problems: readonly FieldProblem[]): Errors {
  const out: Record<string, string[]> = {};
  for (const p of problems) (out[p.path || '(form)'] ??= []).push(p.message);
  return out;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: Errors };

export function validate<S extends z.ZodType>(schema: S, input: unknown): Parsed<z.output<S>> {
  const result = schema.safeParse(input, { reportInput: true });
  return result.success ? { ok: true, value: result.data } : { ok: false, errors: errorsOf(problemsOf(result.error)) };
}

/**
 * Runs a write and turns what the services refuse (a conflict, a bad state, a missing thing) into
 * errors for the form, so the page can be shown again with everything the commander typed.
 */
export async function attempt<T>(write: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; errors: Errors; status: 400 | 403 | 404 | 409 | 422 }> {
  try {
    return { ok: true, value: await write() };
  } catch (error) {
    if (!(error instanceof AppError) || error.status >= 500 || error.status === 401 || error.status === 413) throw error;
    const errors = error.problems.length ? errorsOf(error.problems) : { '(form)': [error.message] };
    return { ok: false, errors, status: error.status as 400 | 403 | 404 | 409 | 422 };
  }
}

/**
 * The signed-in actor and the form's idempotency key (made when the form was rendered), bound to
 * this token and body: a form posted twice (a double click, a reload) is written once.
 */
export async function formCommand(c: Context<ConsoleEnv>, form: Form): Promise<Command> {
  const actor = c.get('actor');
  const key = text(form, '_key');
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(key)) return { actor };
  const fields = Object.entries(form).filter(([k]) => k !== '_csrf' && k !== 'intent');
  const fingerprint = await sha256Hex(`${c.req.method} ${c.req.path}\n${JSON.stringify(fields)}`);
  return { actor, idempotency: { tokenId: actor.tokenId, key: `console:${key}`, fingerprint } };
}

export const newFormKey = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(18)))).replace(/\+/g, '-').replace(/\//g, '_');

const NOTICES: Readonly<Record<string, string>> = {
  opened: 'Incident opened. It is on the public status page now.',
  posted: 'Update posted. It is on the public status page now.',
  resolved: 'Incident resolved.',
  titled: 'Title saved.',
  hidden: 'Update hidden from the timeline; it stays in the audit log.',
  draft: 'Postmortem draft saved. It is not public yet.',
  published: 'Postmortem published on the incident page.',
  saved: 'Postmortem saved; the public incident page shows the new text.',
  'override-set': 'Override set.',
  'override-cleared': 'Override cleared.',
  window: 'Maintenance window saved.',
  scheduled: 'Maintenance scheduled.',
  rescheduled: 'Maintenance rescheduled.',
  cancelled: 'Maintenance cancelled.',
  started: 'Maintenance started.',
  revoked: 'Token revoked; its sessions have ended.',
  'signed-in': 'Signed in.',
};

/** What every console page needs; `?done=` names a fixed notice (never text from the URL). */
export function consoleMeta(c: Context<ConsoleEnv>, deps: Deps, section?: ConsoleMeta['section']): ConsoleMeta {
  const actor = c.get('actor');
  const has = (scope: string) => actor.scopes.includes('admin') || actor.scopes.includes(scope as never);
  return {
    page: pageMeta(deps.config, undefined, deps.clock.now()),
    actor: actor.name,
    csrf: c.get('csrf'),
    ...(section ? { section } : {}),
    can: { incidents: has('incidents:write'), maintenance: has('maintenance:write'), admin: has('admin') },
    notice: NOTICES[c.req.query('done') ?? ''],
  };
}

/** A console page: never cached anywhere, never indexed. */
export function page(c: Context, jsx: { toString(): string }, status: 200 | 400 | 401 | 403 | 404 | 409 | 422 | 429 = 200): Response {
  c.header('Cache-Control', 'no-store');
  c.header('X-Robots-Tag', 'noindex');
  return c.html(`<!DOCTYPE html>${jsx.toString()}`, status);
}

/** After a write: back to a page with GET (so reloading does not post again). */
export function seeOther(c: Context, location: string): Response {
  c.header('Cache-Control', 'no-store');
  return c.redirect(location, 303);
}
