/**
 * Stands in for `fs` in the Worker bundle (wrangler.toml [alias]): a Worker has no files. Two
 * dependencies import it for paths Herald never takes there: `rss` (sizes of file enclosures) and
 * `pgpass` (~/.pgpass, read by `pg` only when the connection string has no password; Hyperdrive's
 * always has one). Both then get "no such file".
 */
const noFile = (path: unknown) => Object.assign(new Error(`ENOENT: no filesystem in a Worker, ${String(path)}`), { code: 'ENOENT' });

export function stat(path: unknown, callback: (error: Error) => void): void {
  queueMicrotask(() => callback(noFile(path)));
}

export function statSync(path: unknown): never {
  throw noFile(path);
}

export function createReadStream(path: unknown): never {
  throw noFile(path);
}

export default { stat, statSync, createReadStream };
