import type { Kysely } from 'kysely';
import type * as z from 'zod';
import { CHANGES_CHANNEL } from '../cache/changes.ts';
import type { Config } from '../config.ts';
import { recordAudit } from '../db/queries/audit.ts';
import { loadCatalog } from '../db/queries/environments.ts';
import { withCatalog } from '../domain/components.ts';
import * as keys from '../db/queries/idempotency.ts';
import { currentTransactionId, notifyOnCommit } from '../db/queries/system.ts';
import type { Database } from '../db/schema.ts';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { AppError, type ErrorCode } from '../errors.ts';
import { actorLabel, type Actor, type Deps } from './deps.ts';
import { causeOf, isPublic, type DomainEvent } from './events.ts';
import { recordModeChanges } from './modes.ts';
import { incidentView, type IncidentView } from './read-model.ts';
import { findIncident, visibleUpdatesOf } from '../db/queries/incidents.ts';
import { insertNotices } from '../db/queries/webhooks.ts';
import { noticesOf } from '../delivery/notices-of.ts';
import { problemsOf } from './schemas.ts';

/** How long a write whose COMMIT got no answer waits to learn whether it happened. */
const SETTLE_COMMIT_MS = 10_000;

export interface Idempotency {
  readonly tokenId: number;
  readonly key: string;
  /** What the request was (method, path, body), so a key reused for another request is refused. */
  readonly fingerprint: string;
}

/** Who asks for a write, and the key that makes a retry of it safe. */
export interface Command {
  readonly actor: Actor;
  readonly idempotency?: Idempotency | undefined;
}

/** A use case's answer: its value, whether it is the stored answer to an earlier try, and what happened. */
export interface Written<T> {
  readonly value: T;
  readonly replayed: boolean;
  /** The events the write emitted, in order (none for a replay). */
  readonly events: readonly DomainEvent[];
}

/** What a use case's work sees inside its transaction. */
export interface Work {
  /** The transaction. */
  readonly db: Kysely<Database>;
  readonly now: Date;
  readonly actor: Actor;
  /** The configuration with the components as this transaction reads them (live and retired). */
  readonly config: Config;
  /** Records that something happened (see events.ts); mode changes are emitted by the unit of work. */
  emit(event: DomainEvent): void;
  /** One row of the audit log, now, as this actor (or as `actor`: a sign-in acts as the token it checked). */
  audit(action: string, target: string, change?: { readonly before?: unknown; readonly after?: unknown; readonly actor?: Actor }): Promise<void>;
  /**
   * Records the role mode changes the work caused so far, effective `at` (the scheduler's catch-up
   * uses it between steps); the unit of work records the rest before it commits.
   */
  settleModes(at?: Date): Promise<void>;
  /** An incident as the work left it: mode bookkeeping uses this view rather than read its timeline again. */
  wrote(view: IncidentView): void;
  /** This write notifies nobody (`notify: false`: a typo fixed): no webhook, no mail. */
  silence(): void;
}

/**
 * The outbox: the notices this write sends, inserted in its transaction (see delivery/). An
 * incident the work did not hand back as a view (a postmortem published) is read here.
 */
async function writeOutbox(trx: Kysely<Database>, config: Config, now: Date, events: readonly DomainEvent[], written: Map<number, IncidentView>, cause: string): Promise<void> {
  for (const e of events) {
    if (e.name !== 'postmortem.published' || written.has(e.incident)) continue;
    const row = await findIncident(trx, e.incident);
    if (row) written.set(row.id, incidentView(config, row, await visibleUpdatesOf(trx, [row.id]), now));
  }
  await insertNotices(trx, now, noticesOf(events, written, config, now, cause));
}

/** Parses a use case's input: every problem listed in one error coded for the use case's area. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, code: ErrorCode): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (!result.success) throw new AppError(code, 'The request body is not valid.', problemsOf(result.error));
  return result.data;
}

/**
 * Runs one use case's work in one transaction, the only place Herald opens one for a write.
 * Inside it, in this order: the Idempotency-Key is claimed (a retry gets the first answer and
 * runs nothing), the work runs and emits its events, the role mode changes it caused are recorded
 * (as `mode.changed` events), the answer is stored with the key, and a public event sends the
 * change notification (NOTIFY is delivered on commit, and only then). After the commit this
 * process's caches hear of it before the answer leaves.
 *
 * The value is stored as JSON for replays, so a use case returns JSON-shaped values (views).
 */
export async function inTransaction<T>(
  deps: Deps,
  command: Command,
  now: Date,
  work: (w: Work) => Promise<T>,
  options: { readonly cause?: string } = {},
): Promise<Written<T>> {
  let xid: string | undefined;
  let done: { value: T; events: DomainEvent[] } | undefined;
  let result: Written<T>;
  try {
    result = await deps.db.transaction().execute(async (trx) => {
      if (deps.commitOutcome) xid = await currentTransactionId(trx);
      const { idempotency } = command;
      if (idempotency) {
        const { tokenId, key, fingerprint } = idempotency;
        if (!(await keys.claimKey(trx, tokenId, key, fingerprint, now))) {
          const earlier = await keys.findKey(trx, tokenId, key);
          if (!earlier || earlier.fingerprint !== fingerprint) {
            throw new AppError('request.idempotency_key_reused', `Idempotency-Key "${key}" was already used for a different request.`);
          }
          return { value: earlier.body as T, replayed: true, events: [] };
        }
      }
      const events: DomainEvent[] = [];
      const written = new Map<number, IncidentView>();
      const actor = command.actor;
      const config = withCatalog(deps.config, await loadCatalog(trx));
      const cause = () => options.cause ?? causeOf(events, actor.name);
      const w: Work = {
        db: trx,
        now,
        actor,
        config,
        emit: (e) => void events.push(e),
        audit: (action, target, { actor: as = actor, ...change } = {}) => recordAudit(trx, { at: now, actor: actorLabel(as), action, target, ...change }),
        settleModes: async (at = now) => {
          for (const c of await recordModeChanges(trx, config, now, cause(), at, [...written.values()])) events.push(c);
        },
        wrote: (view) => void written.set(view.id, view),
        silence: () => void (silenced = true),
      };
      let silenced = false;
      const value = await work(w);
      const open = events.some(isPublic);
      if (open) await w.settleModes();
      if (open && !silenced) await writeOutbox(trx, config, now, events, written, cause());
      if (idempotency) await keys.saveResponse(trx, idempotency.tokenId, idempotency.key, value);
      if (open) await notifyOnCommit(trx, CHANGES_CHANNEL, deps.changes.origin);
      done = { value, events };
      return { value, replayed: false, events };
    });
  } catch (error) {
    // The work was done and the COMMIT sent, but no answer came: it may have happened. Ask the
    // server (on a connection of its own) rather than tell the client something untrue.
    if (!done || !xid || !deps.commitOutcome || !isDatabaseUnavailable(error)) {
      // The work ran and the commit was lost: it may have landed. Rebuild soon, nobody waits.
      if (done && done.events.some(isPublic)) deps.changes.notify('gap');
      throw error;
    }
    const outcome = await deps.commitOutcome(xid, SETTLE_COMMIT_MS);
    if (outcome === 'aborted') throw error;
    if (outcome === 'unknown') {
      if (done.events.some(isPublic)) deps.changes.notify('gap');
      throw new AppError(
        'database.outcome_unknown',
        'Herald lost its database while saving this write, and cannot tell yet whether it was saved. ' +
          'Retry with the same Idempotency-Key: it is then saved exactly once.',
      );
    }
    result = { ...done, replayed: false };
  }
  if (result.events.some(isPublic)) deps.changes.notify();
  return result;
}
