import type { ChangeKind } from './snapshot.ts';

/**
 * Change notifications: every committed write calls `notify()`; caches subscribe. Across
 * processes the node entry relays Postgres NOTIFY (or PGlite's listen) into the same `notify()`,
 * and a lost or regained notification connection as `notify('gap')`.
 */
export interface Changes {
  /**
   * This process's name on the notification channel: its writes NOTIFY with it, so the listener
   * can tell its own (already told locally, after the commit) from other instances'. Heard
   * again as a new write, its own would make readers wait for a second rebuild of the same data.
   */
  readonly origin: string;
  notify(kind?: ChangeKind): void;
  subscribe(listener: (kind: ChangeKind) => void): () => void;
}

export function localChanges(): Changes {
  const listeners = new Set<(kind: ChangeKind) => void>();
  return {
    origin: crypto.randomUUID(),
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
