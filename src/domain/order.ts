/**
 * Orders strings by code point, as `<` does: slugs, ids and ISO-8601 timestamps sort the same in
 * every locale. (`localeCompare` would give the same order for these, but it loads ICU's
 * collation tables into the process, ~3 MB of memory, on its first call.)
 */
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
