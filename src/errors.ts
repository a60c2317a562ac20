/** A problem with one field of a request body, as listed in a 400. */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/**
 * Every error Herald answers with, by its stable code (`area.reason`): the generic id that
 * Heroku's clients branch on (`id` in the JSON) and the HTTP status. The one table that maps
 * domain errors to HTTP; docs/ARCHITECTURE.md lists the codes with what each means.
 */
export const ERROR_CODES = {
  // the request itself
  'request.malformed_json': ['bad_request', 400],
  'request.not_an_object': ['bad_request', 400],
  'request.unreadable': ['bad_request', 400],
  'request.invalid_query': ['invalid_params', 400],
  'request.too_large': ['payload_too_large', 413],
  'request.idempotency_key_invalid': ['invalid_params', 400],
  'request.idempotency_key_reused': ['idempotency_key_reused', 422],
  'request.no_route': ['not_found', 404],
  // who is asking
  'auth.token_required': ['unauthorized', 401],
  'auth.scope_missing': ['forbidden', 403],
  // incidents, their timelines and postmortems
  'incident.invalid_input': ['invalid_params', 400],
  'incident.not_found': ['not_found', 404],
  'timeline.invalid_state': ['invalid_params', 400],
  'timeline.conflict': ['conflict', 409],
  'update.not_found': ['not_found', 404],
  'update.already_hidden': ['conflict', 409],
  'update.only_visible': ['conflict', 409],
  'postmortem.missing': ['conflict', 409],
  'postmortem.incident_open': ['conflict', 409],
  // planned maintenance and the weekly window
  'maintenance.invalid_input': ['invalid_params', 400],
  'maintenance.not_found': ['not_found', 404],
  'maintenance.no_window_before_deadline': ['invalid_params', 400],
  'maintenance.not_scheduled': ['conflict', 409],
  'maintenance.already_completed': ['conflict', 409],
  'maintenance.already_cancelled': ['conflict', 409],
  'maintenance.confirmation_required': ['conflict', 409],
  'window.invalid_input': ['invalid_params', 400],
  // the platform's modes
  'role.not_found': ['not_found', 404],
  'override.invalid_input': ['invalid_params', 400],
  'override.not_set': ['conflict', 409],
  // tokens
  'token.invalid_input': ['invalid_params', 400],
  'token.not_found': ['not_found', 404],
  'token.already_revoked': ['conflict', 409],
  // components and their groups (one slug namespace)
  'component.invalid_input': ['invalid_params', 400],
  'component.not_found': ['not_found', 404],
  'component.exists': ['conflict', 409],
  'component.retired': ['conflict', 409],
  'component.not_retired': ['conflict', 409],
  'group.not_found': ['not_found', 404],
  'group.retired': ['conflict', 409],
  'group.not_retired': ['conflict', 409],
  'group.not_empty': ['conflict', 409],
  // webhook subscriptions
  'webhook.invalid_input': ['invalid_params', 400],
  'webhook.not_found': ['not_found', 404],
  // alert intake and its rules
  'alert.invalid_payload': ['invalid_params', 400],
  'alert.bad_signature': ['unauthorized', 401],
  'rule.invalid_input': ['invalid_params', 400],
  'rule.not_found': ['not_found', 404],
  // email subscribers
  'subscriber.invalid_input': ['invalid_params', 400],
  'subscriber.rate_limited': ['rate_limited', 429],
  'subscriber.link_invalid': ['not_found', 404],
  'subscriber.not_found': ['not_found', 404],
  // the Heroku Status API
  'issue.not_found': ['not_found', 404],
  // Herald's own trouble
  'database.unavailable': ['unavailable', 503],
  /** A commit whose answer was lost with the database: it may or may not have happened. */
  'database.outcome_unknown': ['outcome_unknown', 503],
  'server.internal_error': ['internal_error', 500],
  /** Workers only: a setting is missing or wrong (the Worker's log says which). */
  'server.misconfigured': ['misconfigured', 500],
  /** Workers only: the platform event stream needs a long-lived process. */
  'platform.events_unavailable': ['not_implemented', 501],
} as const satisfies Record<string, readonly [string, number]>;

export type ErrorCode = keyof typeof ERROR_CODES;
type Status = (typeof ERROR_CODES)[ErrorCode][1];

/**
 * An error meant for the client: a stable code, a sentence for people, and for invalid input
 * every problem found. Anything else that is thrown becomes a 500 that says nothing about internals.
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
  /** Heroku's generic id (`not_found`, `invalid_params`, `conflict` …). */
  get id(): string {
    return ERROR_CODES[this.code][0];
  }
  get status(): Status {
    return ERROR_CODES[this.code][1];
  }
  toJSON() {
    return { id: this.id, code: this.code, message: this.message, ...(this.problems.length ? { errors: this.problems } : {}) };
  }
}

/** The JSON of an error that is not an AppError (no route, the database, a crash): same shape. */
export function errorBody(code: ErrorCode, message: string) {
  return new AppError(code, message).toJSON();
}
