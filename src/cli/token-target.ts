/**
 * Where `herald token:create` makes its token. A token written into the wrong database works on
 * no server, so the choice is made from what the user said, and a guess is refused:
 *
 * - `--remote` or `--url URL`: through the server (HERALD_URL or URL), with an admin token.
 * - `--local`: straight into the configured database (DATABASE_URL, else the embedded one in
 *   HERALD_DATA_DIR or ./data, made if missing). This is how a first token is made by hand.
 * - neither: HERALD_URL alone means the server, as for every other client command; DATABASE_URL
 *   or HERALD_DATA_DIR alone means that database; an existing ./data means that one. HERALD_URL
 *   together with a database is ambiguous, and nothing at all is not a reason to create ./data in
 *   whatever folder the command ran in: both are refused with what to type instead.
 */

export type TokenCreateWay = { readonly way: 'remote' } | { readonly way: 'local' } | { readonly way: 'refused'; readonly lines: readonly string[] };

export interface TokenCreateFlags {
  readonly local: boolean;
  readonly remote: boolean;
  /** --url URL was given. */
  readonly url: boolean;
}

const set = (v: string | undefined) => v !== undefined && v.trim() !== '';

export function tokenCreateWay(flags: TokenCreateFlags, env: Readonly<Record<string, string | undefined>>, defaultDataDirExists: () => boolean): TokenCreateWay {
  if (flags.local && (flags.remote || flags.url)) return { way: 'refused', lines: ['give --local or --remote (--url), not both'] };
  if (flags.remote || flags.url) return { way: 'remote' };
  if (flags.local) return { way: 'local' };
  const database = set(env.DATABASE_URL) ? 'DATABASE_URL' : set(env.HERALD_DATA_DIR) ? 'HERALD_DATA_DIR' : undefined;
  if (set(env.HERALD_URL)) {
    if (database === undefined) return { way: 'remote' };
    return {
      way: 'refused',
      lines: [
        `HERALD_URL and ${database} are both set, so it is not clear where the token should go`,
        `add --remote to create it through the server at HERALD_URL (with an admin HERALD_TOKEN), or --local to write it straight into ${database}`,
      ],
    };
  }
  if (database !== undefined || defaultDataDirExists()) return { way: 'local' };
  return {
    way: 'refused',
    lines: [
      'there is no database here to create a token in: ./data does not exist, and none of HERALD_URL, DATABASE_URL and HERALD_DATA_DIR is set',
      'first token: start the server (`herald serve`) and open the setup link it prints, or create the embedded database here with `herald token:create --local …`',
      'from a running server: set HERALD_URL and HERALD_TOKEN (an admin token) and run `herald token:create` again',
    ],
  };
}
