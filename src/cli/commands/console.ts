import type { createSigninLink } from '../../services/sessions.ts';
import type { CommandSpec } from '../command.ts';
import { when } from '../output.ts';

/** `console:link`: a one-time sign-in link to the web console for the caller's own token. */
const consoleLink: CommandSpec = {
  name: 'console:link',
  kind: 'write', // needs a token (any scope); sends no Idempotency-Key: the answer is a secret
  withoutKey: true,
  summary: 'a one-time link that signs you in to the web console; stdout: the URL',
  usage: 'console:link [--json]',
  description: [
    'Asks the server for a link that signs its opener in to the web console (/console) as the token',
    'this command uses (HERALD_TOKEN or --token), with that token\'s scopes. The link works once and',
    'only for 15 minutes. stdout: the URL alone; --json: the server\'s JSON ({url, expires_at}).',
  ],
  examples: ['herald console:link', 'xdg-open "$(herald console:link)"'],
  async run(ctx) {
    const res = await ctx.client().request<Awaited<ReturnType<typeof createSigninLink>>>('POST', '/api/v1/console/links', { auth: true });
    if (ctx.flag('json')) return ctx.o.json(res.body);
    ctx.o.out(res.body.url);
    ctx.o.err(`Open it by ${when(res.body.expires_at)}; it signs in once.`);
  },
};

export const consoleCommands: readonly CommandSpec[] = [consoleLink];
