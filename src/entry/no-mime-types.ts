/**
 * Stands in for the `mime-types` package in both bundles (bin/build.js's alias, wrangler.toml
 * [alias]). Only `rss` imports it, to type an enclosure given without a type, and Herald's feeds
 * have no enclosures. The real package loads mime-db, a 106 KB table that it walks into maps of
 * ~2,400 types at every start.
 */
export function lookup(_path: string): false {
  return false;
}

export default { lookup };
