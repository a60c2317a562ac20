import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { clientUsage, commandHelp, isClientCommand, noAppsProblem, suggestCommand, topicHelp } from '../cli/registry.ts';
import { runClientCommand } from '../cli/run.ts';
import { tokenCreateWay } from '../cli/token-target.ts';
import { ConfigError, parseConfig } from '../config.ts';
import { ROOT } from '../root.ts';
import { SCOPES } from '../services/deps.ts';
// The server, the migrator and the gate are imported when their command runs: a client command
// (incident:update in the middle of an outage) should not pay for loading them.

const USAGE = `Usage: herald <command> [options]

Commands on this machine's configuration:
  serve                                   start the server (same as npm start)
  migrate                                 apply pending database migrations
  prepare                                 make the embedded database's template (initdb and the
                                          migrations, in node_modules/.cache/herald or
                                          HERALD_TEMPLATE_DIR) that a first start copies into an
                                          empty data dir; npm install runs it
  token:create --name NAME --scopes LIST [--local | --remote]
                                          create an API token; prints only the secret, and on
                                          stderr a one-time link to sign in to the web console
                                          (LIST: comma-separated of ${SCOPES.join(', ')}).
                                          --local: into this machine's database; --remote:
                                          through HERALD_URL. herald token:create --help says
                                          which is taken when neither is given.
  gate --upstream URL --role ROLE [--port N] [--hostname ADDR] [--herald URL] [--status-url URL]
       [--allow-path PATH]... [--allow-ip CIDR]... [--bypass-secret S]
       [--maintenance-page-url URL] [--name NAME] [--trust-proxy]
                                          a reverse proxy in front of any HTTP API that enforces
                                          ROLE's mode from the Herald at --herald (or HERALD_URL)

Configuration comes from the environment (DATABASE_URL, HERALD_DATA_DIR, ...); see README.md.

Commands that talk to a Herald server:
${clientUsage()}

herald help TOPIC lists a topic's commands (incident, maintenance, maintenances, postmortem, token, console,
webhooks, alert-rule, alerts);
herald --version prints the version.

Examples:
  herald token:create --local --name alice --scopes admin
  export HERALD_URL=https://status.example.com HERALD_TOKEN=hrd_...
  ID=$(herald incident:open --title "Database failover" --message "Writes are failing." --status production=red)
  herald maintenance:on --role web --reason "Upgrading Postgres" -y
  herald gate --upstream http://127.0.0.1:8080 --role web --port 8000 --herald https://status.example.com \\
    --allow-path /healthz --allow-ip 10.0.0.0/8 --bypass-secret "$GATE_SECRET"`;

class UsageError extends Error {}

/** `herald/0.1.0 linux-x64 node-v20.19.0`, as `heroku --version` reads: enough for a bug report. */
async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('package.json', ROOT), 'utf8')) as { version: string };
  return `herald/${pkg.version} ${process.platform}-${process.arch} node-${process.version}`;
}

/** `unknown command "incident:opne"; did you mean incident:open?` */
function unknownCommand(name: string): string {
  const guess = suggestCommand(name);
  return `unknown command "${name}"${guess ? `; did you mean ${guess}?` : ''}`;
}

/** A command's help, then its topic's commands when it names a topic too (`maintenance`). */
function helpFor(name: string): string | undefined {
  const parts = [commandHelp(name), topicHelp(name)].filter((p): p is string => p !== undefined);
  return parts.length ? parts.join('\n\n') : undefined;
}

const err = (line: string) => process.stderr.write(`${line}\n`);

/** Problems that are the command line's (exit 2), each printed as its own `herald:` line. */
class UsageLines extends Error {
  constructor(readonly lines: readonly string[]) {
    super(lines.join('; '));
  }
}

function tokenCreateFlags(argv: string[]) {
  try {
    const options = {
      name: { type: 'string' },
      scopes: { type: 'string' },
      local: { type: 'boolean' },
      remote: { type: 'boolean' },
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
      app: { type: 'string', short: 'a' },
    } as const;
    return parseArgs({ args: argv, options, strict: true }).values;
  } catch (e) {
    throw new UsageLines([e instanceof Error ? e.message.split('\n')[0]! : String(e)]);
  }
}

/** `herald token:create`: through the server or on the database, as src/cli/token-target.ts decides. */
async function tokenCreate(argv: string[]): Promise<number> {
  const values = tokenCreateFlags(argv);
  if (values.app !== undefined) throw new UsageLines([noAppsProblem('token:create')]);
  const choice = tokenCreateWay({ local: values.local === true, remote: values.remote === true, url: values.url !== undefined }, process.env, () =>
    existsSync(parseConfig(process.env).dataDir),
  );
  if (choice.way === 'refused') throw new UsageLines(choice.lines);
  if (choice.way === 'remote') return runClientCommand('token:create', argv.filter((a) => a !== '--remote').concat('--remote'));
  if (values.token !== undefined || values.json) throw new UsageLines(['--token and --json are for token:create --remote (a token made on the database is printed alone)']);
  const name = values.name?.trim();
  if (!name) throw new UsageLines(['token:create needs --name NAME']);
  const scopes = (values.scopes ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (scopes.length === 0) throw new UsageLines([`token:create needs --scopes (one or more of ${SCOPES.join(', ')})`]);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length) throw new UsageLines([`unknown scope ${unknown.join(', ')} (known: ${SCOPES.join(', ')})`]);
  const config = parseConfig(process.env);
  const [{ openDatabase, DataDirLocked, migrateDatabase }, { createToken }, sessions, { localChanges }, { systemClock }, { operator }] = await Promise.all([
    import('./node.ts'),
    import('../services/tokens.ts'),
    import('../services/sessions.ts'),
    import('../cache/changes.ts'),
    import('../clock.ts'),
    import('../services/deps.ts'),
  ]);
  let handle;
  try {
    handle = await openDatabase(config);
  } catch (error) {
    if (!(error instanceof DataDirLocked)) throw error;
    // The usual first-run mistake: the server is up on the embedded database and holds it.
    err(`herald: a running Herald server (pid ${error.pid}) holds the embedded database in ${error.dir}, so token:create cannot open it`);
    err(`herald: first token: open the setup link that server printed in its log (${sessions.absoluteUrl(config.publicUrl, '/console/setup/…')})`);
    err(`herald: another token: HERALD_URL=${config.publicUrl.replace(/\/+$/, '')} HERALD_TOKEN=<an admin token> herald token:create --remote --name ${name} --scopes ${scopes.join(',')}`);
    return 1;
  }
  try {
    await migrateDatabase(config, handle.backend === 'pglite' ? handle : undefined);
    const deps = { db: handle.db, clock: systemClock, config, changes: localChanges() };
    const { token, signin_url: link } = await createToken(deps, { actor: operator(`cli:${process.env.USER ?? 'unknown'}`) }, { name, scopes });
    // stdout stays the secret alone: `export HERALD_TOKEN=$(herald token:create …)` keeps working.
    process.stdout.write(`${token}\n`);
    err(`Created token "${name}" with scopes ${scopes.join(', ')}. It is shown once; store it now.`);
    err(`Sign in to the console within ${sessions.LINK_LIFETIME_MS / 60_000} minutes: ${link}`);
    return 0;
  } finally {
    await handle.close();
  }
}

async function migrateCommand(): Promise<void> {
  const config = parseConfig(process.env);
  const [{ openDatabase, migrateDatabase }, { loadMigrations }] = await Promise.all([import('./node.ts'), import('../db/migrator.ts')]);
  const handle = await openDatabase(config);
  try {
    const report = await migrateDatabase(config, handle.backend === 'pglite' ? handle : undefined, await loadMigrations());
    err(report.applied.length ? `Applied ${report.applied.join(', ')}.` : `Nothing to apply (${report.already.length} migrations already applied).`);
  } finally {
    await handle.close();
  }
}

/** `herald prepare`: reads only HERALD_TEMPLATE_DIR (npm install runs it, whatever else is set). */
async function prepareCommand(): Promise<void> {
  const { prepareTemplate } = await import('./embedded.ts');
  const report = await prepareTemplate(parseConfig({ HERALD_TEMPLATE_DIR: process.env.HERALD_TEMPLATE_DIR }));
  const inside = relative(process.cwd(), report.dir);
  const where = inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : report.dir;
  err(
    report.made
      ? `Prepared the embedded database template in ${where} (initdb and ${report.migrations} migrations, ${(report.ms / 1000).toFixed(1)} s).`
      : `The embedded database template in ${where} is up to date (${report.migrations} migrations).`,
  );
}

/** A yes/no setting from the environment, spelt as HERALD_TRUST_PROXY is: true, false, 1 or 0 (unset: false). */
function trueOrFalse(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '') return false;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new UsageError(`${name} must be true or false (got ${JSON.stringify(raw)})`);
}

async function gateCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      upstream: { type: 'string' },
      role: { type: 'string' },
      port: { type: 'string' },
      hostname: { type: 'string' },
      herald: { type: 'string' },
      'status-url': { type: 'string' },
      'allow-path': { type: 'string', multiple: true },
      'allow-ip': { type: 'string', multiple: true },
      'bypass-secret': { type: 'string' },
      'maintenance-page-url': { type: 'string' },
      name: { type: 'string' },
      'trust-proxy': { type: 'boolean' },
    },
    strict: true,
  });
  const herald = values.herald ?? process.env.HERALD_URL;
  if (!values.upstream || !URL.canParse(values.upstream)) throw new UsageError('gate needs --upstream URL (the API to protect)');
  if (!values.role) throw new UsageError('gate needs --role ROLE (e.g. web)');
  if (!herald || !URL.canParse(herald)) throw new UsageError('gate needs --herald URL or HERALD_URL (the Herald server to follow)');
  const port = Number(values.port ?? process.env.PORT ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be an integer between 0 and 65535');
  const secret = values['bypass-secret'] ?? process.env.HERALD_GATE_BYPASS_SECRET;
  if (secret !== undefined && secret.length < 16) throw new UsageError('--bypass-secret must be at least 16 characters');
  const pageUrl = values['maintenance-page-url'] ?? process.env.MAINTENANCE_PAGE_URL;
  const trustProxy = values['trust-proxy'] ?? trueOrFalse('HERALD_GATE_TRUST_PROXY', process.env.HERALD_GATE_TRUST_PROXY);
  // A closed pipe into a log shipper must not end the gate in front of the API (see guardProcess).
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
  const { startGateProxy } = await import('./gate.ts');
  const gate = await startGateProxy({
    upstream: values.upstream,
    role: values.role,
    port,
    ...(values.hostname ? { hostname: values.hostname } : {}),
    heraldUrl: herald,
    statusPageUrl: values['status-url'] ?? herald.replace(/\/+$/, ''),
    allowPaths: values['allow-path'] ?? [],
    allowIps: values['allow-ip'] ?? [],
    ...(secret ? { bypass: { secret } } : {}),
    ...(pageUrl ? { maintenancePageUrl: pageUrl } : {}),
    ...(values.name ? { siteName: values.name } : {}),
    trustProxy,
  });
  const stop = () => void gate.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && rest.some((a) => a === '--help' || a === '-h')) {
    const help = helpFor(command);
    if (help) {
      process.stdout.write(`${help}\n`);
      return 0;
    }
  }
  if (command !== 'token:create' && isClientCommand(command, rest)) return runClientCommand(command!, rest);
  try {
    switch (command) {
      case 'serve': {
        // The database is opened while the server's modules load: the embedded one (on a first
        // start, copied from the template first) takes some hundreds of ms, Postgres's first
        // connections tens; on two cores they overlap. A failure (the data dir is locked) is
        // reported when the server awaits it.
        const config = parseConfig(process.env);
        const [{ openDatabase }, { createLogger }, { SERVE_KEEPS_OPEN }] = await Promise.all([import('./embedded.ts'), import('../log.ts'), import('../db/connect.ts')]);
        const opening = openDatabase(config, { log: createLogger((line) => void process.stderr.write(`${line}\n`)), keepOpen: SERVE_KEEPS_OPEN });
        opening.catch(() => {});
        await (await import('./node.ts')).serveFromEnv(process.env, { opening });
        return -1; // keeps running
      }
      case 'migrate':
        await migrateCommand();
        return 0;
      case 'prepare':
        await prepareCommand();
        return 0;
      case 'token:create':
        return await tokenCreate(rest);
      case 'gate':
        await gateCommand(rest);
        return -1; // keeps running
      case 'help':
        if (rest[0] !== undefined) {
          const help = helpFor(rest[0]);
          if (!help) {
            err(`herald: ${unknownCommand(rest[0])}\nSee \`herald help\`.`);
            return 2;
          }
          process.stdout.write(`${help}\n`);
          return 0;
        }
        process.stdout.write(`${USAGE}\n`);
        return 0;
      case '--version':
      case '-v':
      case 'version':
        process.stdout.write(`${await version()}\n`);
        return 0;
      case undefined:
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default: {
        // `herald incident`: a topic, not a command; list what it holds (as Heroku's CLI does).
        const topic = topicHelp(command);
        if (topic) {
          process.stdout.write(`${topic}\n`);
          return 0;
        }
        err(`herald: ${unknownCommand(command)}\nSee \`herald help\`.`);
        return 2;
      }
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`herald: invalid configuration: ${e.message.split('\n').join('; ')}`);
      return 1;
    }
    if (e instanceof UsageLines) {
      for (const line of e.lines) err(`herald: ${line}`);
      err('See `herald token:create --help`.');
      return 2;
    }
    if (e instanceof UsageError || (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS'))) {
      err(`herald: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    err(`herald: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
