import type { createToken, publicToken } from '../../services/tokens.ts';
import { CliUsageError } from '../client.ts';
import type { CommandSpec } from '../command.ts';
import { idArg, need } from '../input.ts';
import { table, when } from '../output.ts';

/**
 * API tokens over HTTP (admin): `token:create` through a server, `token:revoke`, `token:list`.
 * A token made straight in the database (`token:create --local`) is src/entry/cli.ts's.
 */

/** A token as the API shows it: never its secret. */
type TokenView = ReturnType<typeof publicToken>;

/** POST /api/v1/tokens: the token, its secret once, and a one-time link that signs its holder in to the console. */
type CreatedToken = Awaited<ReturnType<typeof createToken>>;

const tokenRevoke: CommandSpec = {
  name: 'token:revoke',
  kind: 'write',
  withoutKey: true,
  args: [1, 1],
  summary: 'revoke an API token (admin)',
  usage: 'token:revoke ID',
  description: ['Revokes token ID at once; the row stays for the audit log. `herald token:list` shows the ids.'],
  examples: ['herald token:revoke 3'],
  async run(ctx) {
    const id = idArg(ctx);
    const res = await ctx.client().request<TokenView>('DELETE', `/api/v1/tokens/${id}`, { auth: true });
    if (ctx.flag('json')) return ctx.o.json(res.body);
    ctx.o.err(`Revoked token #${res.body.id} "${res.body.name}" (${res.body.scopes.join(', ')}).`);
  },
};

const tokenList: CommandSpec = {
  name: 'token:list',
  kind: 'write', // reading tokens needs the admin scope
  withoutKey: true,
  summary: 'API tokens, without their secrets (admin)',
  usage: 'token:list [--json]',
  examples: ['herald token:list'],
  async run(ctx) {
    const res = await ctx.client().request<TokenView[]>('GET', '/api/v1/tokens', { auth: true });
    if (ctx.flag('json')) return ctx.o.json(res.body);
    if (res.body.length === 0) return ctx.o.err('No tokens.');
    const p = ctx.o.colour.stdout;
    ctx.o.out(
      ...table(
        res.body.map((t) => [String(t.id), t.name, t.scopes.join(','), when(t.created_at), when(t.last_used_at), t.revoked_at ? p.dim(`revoked ${when(t.revoked_at)}`) : 'active']),
        ['ID', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'STATE'],
        p,
      ),
    );
  },
};

/**
 * `token:create` through a server (HERALD_URL, --url), with an admin token. Where a token:create
 * goes (this, or straight into the database) is decided in token-target.ts; this spec is also
 * the command's help.
 */
const tokenCreateRemote: CommandSpec = {
  name: 'token:create',
  kind: 'write',
  withoutKey: true,
  summary: 'create an API token; stdout: only the secret',
  usage: 'token:create --name NAME --scopes LIST [--remote | --url URL | --local]',
  description: [
    'Creates an API token and prints its secret (only that) on stdout, with a one-time console',
    'sign-in link on stderr. LIST: comma-separated scopes among incidents:write, maintenance:write, components:write, alerts:write, admin.',
    '',
    'Where the token goes, so that it never lands in a database nobody meant:',
    '  --remote, --url URL  through the server at HERALD_URL (or URL), with an admin token',
    '                       (HERALD_TOKEN or --token)',
    '  --local              straight into this machine\'s database: DATABASE_URL, else the embedded',
    '                       one in HERALD_DATA_DIR or ./data (created if missing)',
    '  neither              HERALD_URL set: remote, like every client command. DATABASE_URL or',
    '                       HERALD_DATA_DIR set, or ./data exists: local. HERALD_URL together with',
    '                       a database, or nothing at all: refused, saying which flag to add.',
    '',
    'The first token: start the server and open the one-time setup link it prints, or run',
    '--local before starting it (the embedded database belongs to one process at a time).',
  ],
  flags: {
    name: { type: 'string', value: 'NAME', help: 'who uses it; the author of their updates' },
    scopes: { type: 'string', value: 'LIST', help: 'incidents:write, maintenance:write, components:write and/or admin' },
    remote: { type: 'boolean', help: 'create it through the server at HERALD_URL' },
    // listed for the help: src/entry/cli.ts makes a --local token itself, and refuses --local beside --remote or --url
    local: { type: 'boolean', help: 'create it in this machine\'s database (DATABASE_URL / HERALD_DATA_DIR / ./data)' },
  },
  examples: [
    'herald token:create --remote --name deploy-bot --scopes maintenance:write',
    'export HERALD_TOKEN=$(herald token:create --local --name alice --scopes admin)',
  ],
  async run(ctx) {
    if (ctx.flag('local')) throw new CliUsageError('give --local or --remote (--url), not both');
    const name = ctx.str('name');
    const scopes = (ctx.str('scopes') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    need(ctx, [name === undefined ? '--name NAME' : '', scopes.length === 0 ? '--scopes LIST' : ''].filter(Boolean));
    const client = ctx.client();
    if (!client.target.token) {
      throw new CliUsageError(
        `token:create goes to the Herald at ${client.target.url}, which needs an admin token: set HERALD_TOKEN (or --token). No token yet? Open the setup link that server printed when it started, or run token:create --local where its database is`,
      );
    }
    // Token creation takes no Idempotency-Key (its answer holds a secret the server does not keep).
    const res = await client.request<CreatedToken>('POST', '/api/v1/tokens', { auth: true, body: { name, scopes } });
    if (ctx.flag('json')) ctx.o.json(res.body);
    else ctx.o.out(res.body.token);
    ctx.o.err(`Created token #${res.body.id} "${res.body.name}" with scopes ${res.body.scopes.join(', ')}. It is shown once; store it now.`);
    if (res.body.signin_url) ctx.o.err(`Sign in to the console within 15 minutes: ${res.body.signin_url}`);
  },
};

export const tokenCommands: readonly CommandSpec[] = [tokenCreateRemote, tokenRevoke, tokenList];
