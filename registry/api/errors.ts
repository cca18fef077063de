/** Harbor's error codes and their HTTP statuses (src/lib/http/error.go). */
const STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PRECONDITION: 412,
  REQUEST_ENTITY_TOO_LARGE: 413,
  TOO_MANY_REQUEST: 429,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE_ENTITY: 422,
  UNKNOWN: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type HarborErrorCode = keyof typeof STATUS;

/** An /api failure, sent as `{"errors":[{"code","message"}]}`. */
export class HarborError extends Error {
  readonly status: number;

  constructor(readonly code: HarborErrorCode, message: string) {
    super(message);
    this.status = STATUS[code];
  }

  toBody(): { errors: { code: string; message: string }[] } {
    return { errors: [{ code: this.code, message: this.message }] };
  }
}

/** Harbor derives a code from the status text for errors that do not carry one (upper snake case). */
export function codeForStatus(status: number): string {
  const known = Object.entries(STATUS).find(([, s]) => s === status);
  return known ? known[0] : status >= 500 ? "UNKNOWN" : "BAD_REQUEST";
}
