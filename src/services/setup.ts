import type { Kysely } from 'kysely';
import { lockSetup } from '../db/queries/system.ts';
import type { Database } from '../db/schema.ts';
import { deleteKey, findKey, findOrCreateKey } from '../db/queries/sessions.ts';
import { anyToken } from '../db/queries/tokens.ts';
import { startSession } from './sessions.ts';
import { actorOf, constantTimeEqual, createToken, randomSecret } from './tokens.ts';

type Db = Kysely<Database>;

/**
 * The way in on a first run: while Herald has no token at all, the server prints a one-time setup
 * link (as Grafana, Jenkins and Uptime Kuma do) that makes the first admin token and signs its
 * opener in to the console. The link's secret is kept in herald_keys, so every instance and
 * every restart prints the same link; it stops working the moment any token exists, whichever
 * way that token was made (the link, `herald token:create`, the API), and is deleted when used.
 */
const SETUP_KEY = 'setup-link';

/** Who made the first token, in its created_by and the audit log. */
export const SETUP_ACTOR = 'herald:setup';

const path = (secret: string) => `/console/setup/${secret}`;

/** At start-up: the setup link's path while Herald has no token, else undefined. */
export async function offerSetup(db: Db, now: Date): Promise<string | undefined> {
  if (await anyToken(db)) return undefined;
  return path(await findOrCreateKey(db, SETUP_KEY, randomSecret(), now));
}

/** Is `secret` the setup link's, and is setup still open (no token yet)? */
export async function setupOpen(db: Db, secret: string): Promise<boolean> {
  const kept = await findKey(db, SETUP_KEY);
  return kept !== undefined && constantTimeEqual(kept, secret) && !(await anyToken(db));
}

/**
 * Uses the setup link, in the caller's transaction: makes the first token (admin) named `name`
 * and a console session for it. Undefined when the link is wrong or setup is over. Concurrent
 * attempts take turns, so exactly one first token is ever made.
 */
export async function completeSetup(db: Db, now: Date, input: { secret: string; name: string; address: string; sessionMs: number }) {
  await lockSetup(db);
  if (!(await setupOpen(db, input.secret))) return undefined;
  const { token, row } = await createToken(db, now, { name: input.name, scopes: ['admin'] }, SETUP_ACTOR);
  await deleteKey(db, SETUP_KEY);
  const { secret, session } = await startSession(db, now, actorOf(row), input.address, input.sessionMs, 'setup');
  return { token, row, sessionSecret: secret, session };
}
