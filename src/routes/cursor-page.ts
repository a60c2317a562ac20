import type { Context } from 'hono';
import * as z from 'zod';
import type { PageKey } from '../db/queries/keyset.ts';
import { AppError } from '../errors.ts';
import { problemsOf } from '../services/schemas.ts';

/**
 * What every /api/v1 list shares, so a client pages incidents and maintenances the same way:
 *
 *   GET /api/v1/maintenances?state=open&limit=50
 *   → { maintenances: [...], next_cursor: "WyIy…", next: "https://…/api/v1/maintenances?limit=50&state=open&cursor=WyIy…" }
 *     Link: <https://…>; rel="next"        (both absent/null on the last page)
 *
 * `state` is open (not yet closed), closed, or all (the default); `limit` 1 to 100 (default 20);
 * `cursor` is opaque to clients. A wrong query is one 400 that lists every problem.
 */


export const LIST_STATES = ['open', 'closed', 'all'] as const;
export type ListState = (typeof LIST_STATES)[number];

/** Cursors are base64url of the last item's [at, id]: clients only hand them back. */
function encodeCursor(key: PageKey): string {
  return btoa(JSON.stringify([key.at?.toISOString() ?? null, key.id])).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeCursor(cursor: string): PageKey | undefined {
  try {
    const [at, id] = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/'))) as [unknown, unknown];
    if (!Number.isInteger(id) || (at !== null && typeof at !== 'string')) return undefined;
    const date = at === null ? null : new Date(at);
    if (date && Number.isNaN(date.getTime())) return undefined;
    return { at: date, id: id as number };
  } catch {
    return undefined;
  }
}

/** The query fields of a list; `extra` adds a list's own filters (incidents: `kind`). */
export function listQuery<E extends z.ZodRawShape>(extra: E) {
  return z.strictObject({
    limit: z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(1, 'must be at least 1').max(100, 'must be at most 100').default(20),
    cursor: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (s === undefined) return undefined;
        const key = decodeCursor(s);
        if (!key) ctx.addIssue({ code: 'custom', message: 'is not a cursor this server gave out', input: s });
        return key;
      }),
    state: z.enum(LIST_STATES, { message: 'must be open, closed or all' }).default('all'),
    ...extra,
  });
}

/** Parses a list's query string, or throws the one 400 that names every problem. */
export function parseListQuery<S extends z.ZodType>(schema: S, query: Record<string, string>): z.output<S> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw new AppError('request.invalid_query', 'The query is not valid.', problemsOf(parsed.error));
  return parsed.data;
}

/**
 * Cuts one page from `rows` (fetched with limit + 1, so one more row means there is a next
 * page) and says where the next page is: `next_cursor`, `next` (the same query with that
 * cursor, on the public URL) and a `Link: <next>; rel="next"` header on `c`.
 */
export function pageOf<T>(
  c: Context,
  url: string,
  rows: readonly T[],
  limit: number,
  keyOf: (row: T) => PageKey,
  params: Readonly<Record<string, string | undefined>>,
): { readonly items: T[]; readonly next_cursor: string | null; readonly next: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  if (rows.length <= limit || last === undefined) return { items, next_cursor: null, next: null };
  const nextCursor = encodeCursor(keyOf(last));
  const u = new URL(url);
  for (const [k, v] of Object.entries({ limit: String(limit), ...params, cursor: nextCursor })) if (v) u.searchParams.set(k, v);
  const next = u.toString();
  c.header('Link', `<${next}>; rel="next"`);
  return { items, next_cursor: nextCursor, next };
}
