/**
 * The OCI Distribution error codes and the HTTP status each one answers with (spec, "Error Codes").
 * Every /v2 failure goes through `OciError`, so the table below is the only place statuses are chosen.
 */
export const OCI_ERRORS = {
  BLOB_UNKNOWN: { status: 404, message: "blob unknown to registry" },
  BLOB_UPLOAD_INVALID: { status: 400, message: "blob upload invalid" },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: "blob upload unknown to registry" },
  DIGEST_INVALID: { status: 400, message: "provided digest did not match uploaded content" },
  MANIFEST_BLOB_UNKNOWN: { status: 404, message: "manifest references a manifest or blob unknown to registry" },
  MANIFEST_INVALID: { status: 400, message: "manifest invalid" },
  MANIFEST_UNKNOWN: { status: 404, message: "manifest unknown to registry" },
  NAME_INVALID: { status: 400, message: "invalid repository name" },
  NAME_UNKNOWN: { status: 404, message: "repository name not known to registry" },
  SIZE_INVALID: { status: 400, message: "provided length did not match content length" },
  UNAUTHORIZED: { status: 401, message: "authentication required" },
  DENIED: { status: 403, message: "requested access to the resource is denied" },
  UNSUPPORTED: { status: 405, message: "the operation is unsupported" },
  TOOMANYREQUESTS: { status: 429, message: "too many requests" },
  // Not in the spec's table but used by distribution for a bad Range/Content-Range.
  RANGE_INVALID: { status: 416, message: "requested range not satisfiable" },
  // Not in the spec's table: distribution's code for a service it depends on failing (a proxy cache's upstream).
  UNAVAILABLE: { status: 503, message: "service unavailable" },
  // Not in the spec's table: Harbor's answer when an immutable tag rule forbids a tag change.
  PRECONDITION: { status: 412, message: "precondition failed" },
  // Not in the spec's table: Harbor's answer when a project's policy (prevent_vul) refuses a pull.
  PROJECTPOLICYVIOLATION: { status: 412, message: "the project's policy refuses this artifact" },
} as const;

export type OciErrorCode = keyof typeof OCI_ERRORS;

export class OciError extends Error {
  readonly status: number;
  /** For 401s: the token scope the client should ask for (`repository:<name>:pull,push`). */
  challengeScope?: string;

  constructor(
    readonly code: OciErrorCode,
    message?: string,
    readonly detail?: unknown,
    status?: number,
  ) {
    super(message ?? OCI_ERRORS[code].message);
    this.status = status ?? OCI_ERRORS[code].status;
  }

  toBody(): { errors: { code: string; message: string; detail?: unknown }[] } {
    const entry: { code: string; message: string; detail?: unknown } = { code: this.code, message: this.message };
    if (this.detail !== undefined) entry.detail = this.detail;
    return { errors: [entry] };
  }
}

/**
 * The spec's code for a /v2 failure that did not raise an OciError (one fastify raises before a handler runs: a
 * malformed %-escape in the path, an empty Content-Type). By status; anything without a closer code is UNSUPPORTED,
 * which this registry already answers for a malformed query parameter.
 */
export function ociCodeForStatus(status: number): OciErrorCode {
  const byStatus: Partial<Record<number, OciErrorCode>> = {
    401: "UNAUTHORIZED",
    403: "DENIED",
    404: "NAME_UNKNOWN",
    413: "SIZE_INVALID",
    416: "RANGE_INVALID",
    429: "TOOMANYREQUESTS",
  };
  return byStatus[status] ?? "UNSUPPORTED";
}
