/**
 * Change notifications: every committed write calls `notify()`; caches subscribe. Across
 * processes the node entry relays Postgres NOTIFY (or PGlite's listen) into the same `notify()`.
 */
export interface Changes {
  notify(): void;
  subscribe(listener: () => void): () => void;
}

export function localChanges(): Changes {
  const listeners = new Set<() => void>();
  return {
    notify() {
      for (const l of listeners) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The channel writes NOTIFY on, in the same transaction, so others hear only committed changes. */
export const CHANGES_CHANNEL = 'herald_changes';
