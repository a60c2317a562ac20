import type { Kysely } from 'kysely';
import type { Changes } from '../cache/changes.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import type { CommitOutcome } from '../db/unavailable.ts';

/** What every use case needs: the database, the one clock, and the parsed configuration. */
export interface Deps {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly config: Config;
  /** Told after every committed write; the public snapshot listens. */
  readonly changes: Changes;
  /**
   * Told after a write that queued something to send that is not a public change (a confirmation
   * mail, a test event, a re-enabled webhook's backlog); the delivery loops listen. Public writes
   * reach them through `changes`.
   */
  readonly queued?: () => void;
  /** Settles a COMMIT that got no answer (Postgres only; see DatabaseHandle.commitOutcome). */
  readonly commitOutcome?: (xid: string, withinMs: number) => Promise<CommitOutcome>;
}

export const SCOPES = ['incidents:write', 'maintenance:write', 'components:write', 'alerts:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is writing: a token. Its name is the author of updates and the actor of audit rows. */
export interface Actor {
  readonly tokenId: number;
  readonly name: string;
  readonly scopes: readonly Scope[];
  /** How the audit log names an actor that is not a token (the CLI's operator, setup, tests). */
  readonly label?: string;
}

/** Someone not yet known: a sign-in before its token is checked. */
export const ANONYMOUS: Actor = { tokenId: 0, name: 'anonymous', scopes: [], label: 'anonymous' };

/** Herald itself, when the scheduler starts or completes maintenance. */
export const SCHEDULER: Actor = { tokenId: 0, name: 'Herald scheduler', scopes: ['admin'] };

export const actorLabel = (a: Actor) => a.label ?? (a.tokenId === 0 ? `herald:${a.name}` : `token:${a.name}#${a.tokenId}`);

/** Someone acting on the database directly, not through a token (`herald token:create`, the demo, setup). */
export const operator = (label: string): Actor => ({ tokenId: 0, name: label, scopes: ['admin'], label });
