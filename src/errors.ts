/** A problem with one field of a request body, as listed in a 400. */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

const HTTP_STATUS = {
  invalid_params: 400,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  idempotency_key_reused: 422,
  unavailable: 503,
  /** A commit whose answer was lost with the database: it may or may not have happened. */
  outcome_unknown: 503,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof HTTP_STATUS;

/**
 * An error meant for the client: a stable machine code, a sentence for people, and for invalid
 * bodies every problem found. Anything else that is thrown becomes a 500 that says nothing
 * about internals.
 */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly problems: readonly FieldProblem[] = [],
  ) {
    super(message);
  }
  get status(): (typeof HTTP_STATUS)[ErrorCode] {
    return HTTP_STATUS[this.code];
  }
  toJSON() {
    return { id: this.code, message: this.message, ...(this.problems.length ? { errors: this.problems } : {}) };
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} was not found.`);
export const conflict = (message: string) => new AppError('conflict', message);
