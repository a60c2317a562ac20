import * as z from 'zod';
import * as m from '../db/queries/modes.ts';
import type { OverrideRow } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { actorLabel, type Deps } from './deps.ts';
import { loadPlatform, type RoleMode } from './modes.ts';
import { LIMITS } from './schemas.ts';
import { inTransaction, parseInput, type Command, type Work } from './unit-of-work.ts';

const reason = z.string().trim().min(1, 'reason must not be empty').max(LIMITS.reason, `reason must be at most ${LIMITS.reason} characters`).refine((s) => !s.includes('\u0000'), 'reason must not contain NUL characters');
const instant = 'must be an ISO 8601 time with a timezone, e.g. 2026-11-21T10:00:00Z';

export const overrideBody = z.strictObject({
  mode: z.enum(['read_only', 'maintenance'], { message: 'must be read_only or maintenance (to return to full, clear the override)' }),
  reason,
  /** When the operator expects to be done: gates send it as Retry-After (it does not end the override). */
  until: z.string({ message: instant }).pipe(z.iso.datetime({ offset: true, message: instant })).transform((s) => new Date(s)).optional(),
  /** Browsers on the maintenance page reload it every `refresh` seconds (the Refresh header). */
  refresh: z.number({ message: 'must be a number of seconds' }).int('must be a whole number of seconds').min(1, 'must be at least 1').max(86400, 'must be at most 86400 (a day)').optional(),
});
export const clearBody = z.strictObject({ reason: reason.optional() });

export interface OverrideView {
  readonly id: number;
  readonly role: string;
  readonly mode: string;
  readonly reason: string;
  readonly set_at: string;
  readonly set_by: string;
  readonly until: string | null;
  readonly refresh: number | null;
  readonly cleared_at: string | null;
  readonly cleared_by: string | null;
}

function overrideView(o: OverrideRow): OverrideView {
  return { id: o.id, role: o.role, mode: o.mode, reason: o.reason, set_at: o.set_at.toISOString(), set_by: o.set_by, until: o.until?.toISOString() ?? null, refresh: o.refresh_seconds, cleared_at: o.cleared_at?.toISOString() ?? null, cleared_by: o.cleared_by };
}

/** A role this instance has, or 404. */
export function checkRole(deps: Pick<Deps, 'config'>, role: string): string {
  if (!deps.config.roles.includes(role)) throw new AppError('role.not_found', `Role "${role}" is not configured (roles: ${deps.config.roles.join(', ')}).`);
  return role;
}

/** The role as it is once the write is done. */
async function roleAfter(w: Work, role: string): Promise<RoleMode> {
  await w.settleModes();
  return (await loadPlatform(w.db, w.config, w.now)).find((r) => r.role === role)!;
}

/**
 * Sets a role's manual override (replacing one in force, which stays in the history). `until` is
 * an expectation for clients (Retry-After), not a timer: the override holds until cleared.
 */
export async function setOverride(deps: Deps, command: Command, role: string, body: unknown) {
  checkRole(deps, role);
  const now = deps.clock.now();
  const input = parseInput(overrideBody, body, 'override.invalid_input');
  if (input.until && input.until.getTime() <= now.getTime()) {
    throw new AppError('override.invalid_input', 'The request is not valid.', [{ path: 'until', message: `must be in the future (server time is ${now.toISOString()})` }]);
  }
  const { actor } = command;
  return inTransaction(deps, command, now, async (w) => {
    const current = (await m.activeOverrides(w.db)).find((o) => o.role === role);
    if (current) await m.clearOverride(w.db, current.id, now, actorLabel(actor), `replaced by a ${input.mode} override`);
    const row = await m.insertOverride(w.db, { role, mode: input.mode, reason: input.reason, set_at: now, set_by: actorLabel(actor), until: input.until ?? null, refresh_seconds: input.refresh ?? null });
    await w.audit('override.set', `role:${role}`, { before: current ?? null, after: row });
    w.emit({ name: 'override.set', role, mode: input.mode });
    return { role: await roleAfter(w, role), override: overrideView(row) };
  }, { cause: `override set on ${role} by ${actor.name}: ${input.reason}` });
}

/** Clears a role's override. What still holds the role (open incidents, maintenance) is in the answer's role. */
export async function clearOverride(deps: Deps, command: Command, role: string, body: unknown) {
  checkRole(deps, role);
  const now = deps.clock.now();
  const input = parseInput(clearBody, body, 'override.invalid_input');
  const { actor } = command;
  return inTransaction(deps, command, now, async (w) => {
    const current = (await m.activeOverrides(w.db)).find((o) => o.role === role);
    if (!current) throw new AppError('override.not_set', `Role "${role}" has no manual override to clear.`);
    const row = await m.clearOverride(w.db, current.id, now, actorLabel(actor), input.reason ?? null);
    await w.audit('override.clear', `role:${role}`, { before: current, after: row });
    w.emit({ name: 'override.cleared', role });
    return { role: await roleAfter(w, role), override: overrideView(row) };
  }, { cause: `override cleared on ${role} by ${actor.name}` });
}
