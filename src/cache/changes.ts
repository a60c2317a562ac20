import type { ChangeKind } from './snapshot.ts';

/**
 * Change notifications: every committed write calls `notify()`; caches subscribe. Across
 * processes the node entry relays Postgres NOTIFY (or PGlite's listen) into the same `notify()`,
 * and a lost or regained notification connection as `notify('gap')`.
 */
export interface Changes {
  notify(kind?: ChangeKind): void;
  subscribe(listener: (kind: ChangeKind) => void): () => void;
}

export function localChanges(): Changes {
  const listeners = new Set<(kind: ChangeKind) => void>();
  return {
    notify(kind = 'write') {
      for (const l of listeners) l(kind);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The channel writes NOTIFY on, in the same transaction, so others hear only committed changes. */
export const CHANGES_CHANNEL = 'herald_changes';
