import { parseArgs } from 'node:util';
import { ConfigError, parseConfig } from '../config.ts';
import { loadMigrations, migrate } from '../db/migrator.ts';
import { SCOPES, type Scope } from '../services/deps.ts';
import { createToken } from '../services/tokens.ts';
import { openDatabase, serveFromEnv } from './node.ts';

const USAGE = `Usage: herald <command> [options]

Commands:
  serve                                   start the server (same as npm start)
  migrate                                 apply pending database migrations
  token:create --name NAME --scopes LIST  create an API token on this database; prints only the secret
                                          (LIST: comma-separated of ${SCOPES.join(', ')})

Configuration comes from the environment (DATABASE_URL, HERALD_DATA_DIR, ...); see README.md.
Example:
  herald token:create --name alice --scopes admin`;

class UsageError extends Error {}

const err = (line: string) => process.stderr.write(`${line}\n`);

async function tokenCreate(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { name: { type: 'string' }, scopes: { type: 'string' } }, strict: true });
  const name = values.name?.trim();
  if (!name) throw new UsageError('token:create needs --name NAME');
  const scopes = (values.scopes ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (scopes.length === 0) throw new UsageError(`token:create needs --scopes (one or more of ${SCOPES.join(', ')})`);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length) throw new UsageError(`unknown scope ${unknown.join(', ')} (known: ${SCOPES.join(', ')})`);
  const config = parseConfig(process.env);
  const handle = await openDatabase(config);
  try {
    await migrate(handle.db);
    const { token } = await handle.db.transaction().execute((trx) =>
      createToken(trx, new Date(), { name, scopes: [...new Set(scopes)] as Scope[] }, `cli:${process.env.USER ?? 'unknown'}`),
    );
    process.stdout.write(`${token}\n`);
    err(`Created token "${name}" with scopes ${scopes.join(', ')}. It is shown once; store it now.`);
  } finally {
    await handle.close();
  }
}

async function migrateCommand(): Promise<void> {
  const config = parseConfig(process.env);
  const handle = await openDatabase(config);
  try {
    const report = await migrate(handle.db, await loadMigrations());
    err(report.applied.length ? `Applied ${report.applied.join(', ')}.` : `Nothing to apply (${report.already.length} migrations already applied).`);
  } finally {
    await handle.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        await serveFromEnv(process.env);
        return -1; // keeps running
      case 'migrate':
        await migrateCommand();
        return 0;
      case 'token:create':
        await tokenCreate(rest);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`herald: invalid configuration: ${e.message.split('\n').join('; ')}`);
      return 1;
    }
    if (e instanceof UsageError || (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))) {
      err(`herald: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    err(`herald: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
