/**
 * Errors that mean "the database cannot be reached right now", not "Herald is broken": the
 * request is answered 503 with Retry-After, and a commit that failed this way may still have
 * happened (see `CommitOutcome`).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = String((error as { code?: unknown }).code ?? '');
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', '57P01', '57P02', '57P03', '53300'].includes(code) ||
    code.startsWith('08') ||
    /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed and is not queryable|PGlite is closed/i.test(error.message) ||
    (error.cause !== undefined && error.cause !== error && isDatabaseUnavailable(error.cause))
  );
}

/**
 * What became of a transaction whose COMMIT got no answer (the connection died or timed out
 * after the COMMIT was sent): the server may have committed it, or not.
 */
export type CommitOutcome = 'committed' | 'aborted' | 'unknown';
