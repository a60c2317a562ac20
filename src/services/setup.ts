import type { Kysely } from 'kysely';
import { lockSetup } from '../db/queries/system.ts';
import type { Database } from '../db/schema.ts';
import { deleteKey, findKey, findOrCreateKey } from '../db/queries/sessions.ts';
import { anyToken } from '../db/queries/tokens.ts';
import { operator, type Deps } from './deps.ts';
import { writeSchemas } from './schemas.ts';
import { startSession } from './sessions.ts';
import { actorOf, constantTimeEqual, mintToken, randomSecret } from './tokens.ts';
import { inTransaction, parseInput } from './unit-of-work.ts';

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
 * Uses the setup link: makes the first token (admin) named `name` and a console session for it.
 * Undefined when the link is wrong or setup is over. Concurrent attempts take turns, so exactly
 * one first token is ever made.
 */
export async function completeSetup(deps: Deps, input: { secret: string; name: string; address: string }) {
  const { name } = parseInput(writeSchemas(deps.config, deps.clock.now()).createToken, { name: input.name, scopes: ['admin'] }, 'token.invalid_input');
  const { value } = await inTransaction(deps, { actor: operator(SETUP_ACTOR) }, deps.clock.now(), async (w) => {
    await lockSetup(w.db);
    if (!(await setupOpen(w.db, input.secret))) return undefined;
    const { token, row } = await mintToken(w, { name, scopes: ['admin'] });
    await deleteKey(w.db, SETUP_KEY);
    w.emit({ name: 'setup.completed', token: row.id });
    const { secret, session } = await startSession(w, actorOf(row), input.address, 'setup');
    return { token, row, sessionSecret: secret, session };
  });
  return value;
}
