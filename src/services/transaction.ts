import type { Kysely } from 'kysely';
import { currentTransactionId, notifyOnCommit } from '../db/queries/system.ts';
import { CHANGES_CHANNEL, type Changes } from '../cache/changes.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { recordModeChanges } from './modes.ts';
import * as keys from '../db/queries/idempotency.ts';
import { AppError } from '../errors.ts';
import { isDatabaseUnavailable, type CommitOutcome } from '../db/unavailable.ts';

/** How long a write whose COMMIT got no answer waits to learn whether it happened. */
const SETTLE_COMMIT_MS = 10_000;

export interface WriteResult {
  readonly status: number;
  readonly body: unknown;
  /** False when the write turned out to change nothing (a scheduler pass with nothing due). */
  readonly changed?: boolean;
}

export interface Idempotency {
  readonly tokenId: number;
  readonly key: string;
  /** What the request was (method, path, body), so a key reused for another request is refused. */
  readonly fingerprint: string;
}

/**
 * Runs one write in one transaction. With an Idempotency-Key the key is claimed in the same
 * transaction and the response stored with it: a retry returns the first response, and if the
 * write fails nothing is kept, key included, so the retry runs it afresh.
 *
 * Any change of a role's effective mode the write caused is recorded in the same transaction.
 * The change notification is part of the transaction too (NOTIFY is delivered on commit, and
 * only then), and this process's caches hear of it before the response leaves.
 */
export async function runWrite(
  deps: {
    readonly db: Kysely<Database>;
    readonly changes: Changes;
    readonly config: Config;
    readonly commitOutcome?: (xid: string, withinMs: number) => Promise<CommitOutcome>;
  },
  now: Date,
  idempotency: Idempotency | undefined,
  write: (trx: Kysely<Database>) => Promise<WriteResult>,
  cause = 'write',
): Promise<WriteResult & { replayed: boolean }> {
  let xid: string | undefined;
  let done: (WriteResult & { replayed: boolean }) | undefined;
  let result: WriteResult & { replayed: boolean };
  try {
    result = await deps.db.transaction().execute(async (trx) => {
      if (deps.commitOutcome) xid = await currentTransactionId(trx);
      if (idempotency) {
        const { tokenId, key, fingerprint } = idempotency;
        if (!(await keys.claimKey(trx, tokenId, key, fingerprint, now))) {
          const earlier = await keys.findKey(trx, tokenId, key);
          if (!earlier || earlier.fingerprint !== fingerprint) {
            throw new AppError('idempotency_key_reused', `Idempotency-Key "${key}" was already used for a different request.`);
          }
          return { status: earlier.status, body: earlier.body, replayed: true };
        }
      }
      const written = await write(trx);
      await recordModeChanges(trx, deps.config, now, cause);
      if (idempotency) await keys.saveResponse(trx, idempotency.tokenId, idempotency.key, written.status, written.body);
      if (written.changed !== false) await notifyOnCommit(trx, CHANGES_CHANNEL);
      done = { ...written, replayed: false };
      return done;
    });
  } catch (error) {
    // The work was done and the COMMIT sent, but no answer came: it may have happened. Ask the
    // server (on a connection of its own) rather than tell the client something untrue.
    if (!done || !xid || !deps.commitOutcome || !isDatabaseUnavailable(error)) throw error;
    const outcome = await deps.commitOutcome(xid, SETTLE_COMMIT_MS);
    if (outcome === 'aborted') throw error;
    if (outcome === 'unknown') {
      throw new AppError(
        'outcome_unknown',
        'Herald lost its database while saving this write, and cannot tell yet whether it was saved. ' +
          'Retry with the same Idempotency-Key: it is then saved exactly once.',
      );
    }
    result = done;
  }
  if (!result.replayed && result.changed !== false) deps.changes.notify();
  return result;
}
