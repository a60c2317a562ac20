import * as z from 'zod';
import { IMPACTS } from '../domain/vocabulary.ts';
import type { Config } from '../config.ts';
import type { FieldProblem } from '../errors.ts';
import { INCIDENT_STATES, MODES, STATUSES, type Mode, type Status } from '../domain/vocabulary.ts';
import { SCOPES } from './deps.ts';
import { parseDay, parseTime } from '../domain/windows.ts';

/** Limits that keep one request from filling the database. */
export const LIMITS = { title: 200, message: 20_000, postmortem: 200_000, reason: 500, tokenName: 100 } as const;

const text = (label: string, max: number) =>
  z
    .string({ message: `${label} must be a string` })
    .trim()
    .min(1, `${label} must not be empty`)
    .max(max, `${label} must be at most ${max} characters`)
    // Postgres text cannot hold NUL; refuse it here rather than fail in the database.
    .refine((s) => !s.includes('\u0000'), `${label} must not contain NUL characters`);

/**
 * A record keyed by configured names. An unknown key is a problem at its own path, reported
 * together with any bad values (a refinement on the record would be skipped once a value fails).
 */
function keyedBy<V extends string>(known: readonly string[], what: string, values: readonly V[], retired: readonly string[] = []) {
  const valueList = values.join(', ');
  const key = z.string().refine((k) => known.includes(k), {
    error: (issue) => unknownName(what, String(issue.input), known, retired),
  });
  const record = z.record(key, z.enum(values as [V, ...V[]], { message: `must be one of ${valueList}` }), {
    message: `must be an object mapping ${what} to one of ${valueList}`,
  });
  // JSON.parse makes "__proto__" an own key, which z.record skips without a word.
  return z.preprocess((value, ctx) => {
    if (value !== null && typeof value === 'object' && Object.hasOwn(value, '__proto__')) {
      ctx.addIssue({ code: 'custom', path: ['__proto__'], message: `unknown ${what} "__proto__" (known: ${known.join(', ')})`, input: value });
    }
    return value;
  }, record);
}

/** Why a name is refused: a retired environment says so (restore it first), anything else is unknown. */
function unknownName(what: string, name: string, known: readonly string[], retired: readonly string[]): string {
  return retired.includes(name) ? `${what} "${name}" is retired` : `unknown ${what} "${name}" (known: ${known.join(', ')})`;
}

/** An instant with its timezone, after `now` (a plan, not a record). */
function futureInstant(now: Date) {
  return z
    .string({ message: 'must be an ISO 8601 time with a timezone, e.g. 2026-11-21T10:00:00Z' })
    .pipe(z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time with a timezone, e.g. 2026-11-21T10:00:00Z' }))
    .transform((s) => new Date(s))
    .refine((d) => d.getTime() > now.getTime(), `must be in the future (server time is ${now.toISOString()})`);
}

/** Nothing Herald records happened before this; an earlier year is a typo (and PGlite misreads years below 100). */
const EARLIEST = new Date('2000-01-01T00:00:00Z');

/** An instant with its timezone, not after `now`: updates may be backdated, never post-dated. */
function pastInstant(now: Date) {
  return z
    .string({ message: 'must be an ISO 8601 time with a timezone, e.g. 2026-11-21T10:00:00Z' })
    .pipe(z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time with a timezone, e.g. 2026-11-21T10:00:00Z' }))
    .transform((s) => new Date(s))
    .refine((d) => d.getTime() >= EARLIEST.getTime(), `must not be before ${EARLIEST.toISOString().slice(0, 10)} (a mistyped year?)`)
    .refine((d) => d.getTime() <= now.getTime(), `must not be in the future (server time is ${now.toISOString()})`);
}

/** An incident's impact as its commander sets it (Statuspage's impact_override). */
const impact = z.enum(IMPACTS, { message: `must be one of ${IMPACTS.join(', ')}` });

export function writeSchemas(config: Config, now: Date) {
  const environments = config.environments.map((e) => e.slug);
  const retired = (config.retired ?? []).map((e) => e.slug);
  const statuses = keyedBy<Status>(environments, 'environment', STATUSES, retired);
  const modes = keyedBy<Mode>(config.roles, 'role', MODES);
  const state = z.enum(INCIDENT_STATES, { message: `must be one of ${INCIDENT_STATES.join(', ')}` });
  const updateFields = {
    message: text('message', LIMITS.message),
    statuses: statuses.optional(),
    modes: modes.optional(),
    at: pastInstant(now).optional(),
    /** false: post without notifying subscribers (Statuspage's deliver_notifications). */
    notify: z.boolean({ message: 'must be true or false' }).optional(),
  };
  return {
    createIncident: z.strictObject({
      title: text('title', LIMITS.title),
      impact: impact.optional(),
      state: state.default('investigating'),
      ...updateFields,
    }),
    /** state may be any state of the event's kind; the service checks it against the kind. */
    postUpdate: z.strictObject({
      state: z.string({ message: 'must be a string' }).optional(),
      ...updateFields,
    }),
    editIncident: z
      .strictObject({ title: text('title', LIMITS.title).optional(), impact: impact.nullable().optional() })
      .refine((v) => v.title !== undefined || v.impact !== undefined, { message: 'give title or impact (null: derive it from the statuses again)' }),
    postmortem: z.strictObject({ markdown: text('markdown', LIMITS.postmortem) }),
    publishPostmortem: z.strictObject({}),
    hideUpdate: z.strictObject({ reason: text('reason', LIMITS.reason) }),
    createMaintenance: z
      .strictObject({
        title: text('title', LIMITS.title),
        message: text('message', LIMITS.message),
        environments: z
          .array(z.string(), { message: 'must be a list of environments' })
          .superRefine((list, ctx) => {
            list.forEach((e, i) => {
              if (!environments.includes(e)) ctx.addIssue({ code: 'custom', path: [i], message: unknownName('environment', e, environments, retired) });
            });
          })
          .optional(),
        modes: modes.optional(),
        scheduled_for: futureInstant(now).optional(),
        scheduled_until: futureInstant(now).optional(),
        required_by: futureInstant(now).optional(),
        auto_start: z.boolean({ message: 'must be true or false' }).optional(),
        auto_complete: z.boolean({ message: 'must be true or false' }).optional(),
        notify: z.boolean({ message: 'must be true or false' }).optional(),
      })
      .superRefine(checkSchedule),
    reschedule: z
      .strictObject({
        scheduled_for: futureInstant(now).optional(),
        scheduled_until: futureInstant(now).optional(),
        required_by: futureInstant(now).optional(),
        auto_start: z.boolean({ message: 'must be true or false' }).optional(),
        auto_complete: z.boolean({ message: 'must be true or false' }).optional(),
      })
      .superRefine((v, ctx) => {
        // moving only the end is fine: the service checks it against the start it keeps
        if (v.scheduled_for || v.required_by) checkSchedule(v, ctx);
      }),
    runMaintenance: z.strictObject({ confirm: z.string({ message: 'must be a string' }).optional(), message: text('message', LIMITS.message).optional() }),
    cancelMaintenance: z.strictObject({ message: text('message', LIMITS.message).optional() }),
    window: z.strictObject({
      day: z.string({ message: 'must be a day of the week, e.g. Sunday' }).refine((d) => parseDay(d) !== undefined, 'must be a day of the week, e.g. Sunday'),
      time: z.string({ message: 'must be a time HH:MM in UTC, e.g. 14:30' }).refine((t) => parseTime(t) !== undefined, 'must be a time HH:MM in UTC, e.g. 14:30'),
      duration_hours: z.number({ message: 'must be a number of hours' }).min(0.25, 'must be at least 0.25').max(24, 'must be at most 24').optional(),
    }),
    createToken: z.strictObject({
      name: text('name', LIMITS.tokenName),
      scopes: z
        .array(z.enum(SCOPES, { message: `must be one of ${SCOPES.join(', ')}` }), { message: 'must be a list of scopes' })
        .min(1, `must name at least one scope (${SCOPES.join(', ')})`)
        .transform((s) => [...new Set(s)]),
    }),
  };
}

export type WriteSchemas = ReturnType<typeof writeSchemas>;

/** A maintenance is planned either by time (scheduled_for, optional scheduled_until) or by deadline. */
function checkSchedule(v: { scheduled_for?: Date | undefined; scheduled_until?: Date | undefined; required_by?: Date | undefined }, ctx: z.RefinementCtx) {
  if (v.required_by && (v.scheduled_for || v.scheduled_until)) {
    ctx.addIssue({ code: 'custom', path: ['required_by'], message: 'give either required_by (Herald picks the window) or scheduled_for, not both' });
  } else if (!v.required_by && !v.scheduled_for) {
    ctx.addIssue({ code: 'custom', path: ['scheduled_for'], message: 'is required unless required_by is given' });
  }
  if (v.scheduled_for && v.scheduled_until && v.scheduled_until.getTime() <= v.scheduled_for.getTime()) {
    ctx.addIssue({ code: 'custom', path: ['scheduled_until'], message: 'must be after scheduled_for' });
  }
}

/** Every problem zod found, each with its dotted path ("statuses.staging"). */
export function problemsOf(error: z.ZodError): FieldProblem[] {
  return error.issues.map((i) => {
    const path = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys') {
      return { path: path || '(body)', message: `unknown field${i.keys.length > 1 ? 's' : ''}: ${i.keys.join(', ')}` };
    }
    // a coerced number that was not one ("limit=ten") comes as NaN, with no input either: not missing
    if (i.code === 'invalid_type' && i.input === undefined && !('received' in i && i.received === 'NaN')) return { path, message: 'is required' };
    if (i.code === 'invalid_key') return { path, message: i.issues[0]?.message ?? i.message };
    return { path: path || '(body)', message: i.message };
  });
}
