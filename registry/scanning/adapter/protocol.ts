import { VULNERABILITY_REPORT_MIME_TYPE } from "../report/harbor";

/**
 * Harbor's pluggable scanner adapter API (spec v1.1/1.2), both sides: media types, the scan request, and the
 * shapes both Berth's adapter server and its adapter client read and write (SCANNING.md §1).
 */
export const ADAPTER_MEDIA_TYPES = {
  metadata: "application/vnd.scanner.adapter.metadata+json; version=1.1",
  scanRequest: "application/vnd.scanner.adapter.scan.request+json; version=1.1",
  scanResponse: "application/vnd.scanner.adapter.scan.response+json; version=1.0",
  error: "application/vnd.scanner.adapter.error+json; version=1.0",
  /** Harbor's legacy native report: the same schema as the 1.1 one. */
  legacyReport: "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0",
  report: VULNERABILITY_REPORT_MIME_TYPE,
} as const;

/** Manifest media types a vulnerability scan consumes. */
export const SCANNABLE_MANIFESTS = ["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"];

export interface AdapterScanRequest {
  registry: { url: string; authorization: string };
  artifact: { repository: string; digest: string; tag?: string; mime_type: string };
}

export interface AdapterMetadata {
  scanner: { name: string; vendor: string; version: string };
  capabilities: Array<{ type?: string; consumes_mime_types: string[]; produces_mime_types: string[] }>;
  properties?: Record<string, string>;
}

/** A request the adapter refuses, with the status the spec gives it (400 unreadable, 422 invalid field). */
export class AdapterRequestError extends Error {
  constructor(
    readonly status: 400 | 422,
    message: string,
  ) {
    super(message);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const DIGEST = /^sha(256:[a-f0-9]{64}|512:[a-f0-9]{128})$/;
// OCI repository names (distribution's grammar), bounded.
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** Reads a scan request body; unknown fields are ignored (Harbor sends a few the spec does not name). */
export function parseScanRequest(body: unknown): AdapterScanRequest {
  if (!isObject(body)) throw new AdapterRequestError(400, "the body must be a scan request JSON object");
  const { registry, artifact } = body;
  if (!isObject(registry) || !isObject(artifact)) throw new AdapterRequestError(422, "registry and artifact are required");
  if (typeof registry.url !== "string" || !/^https?:\/\/[^/]/i.test(registry.url)) throw new AdapterRequestError(422, "registry.url must be an http or https URL");
  try {
    new URL(registry.url);
  } catch {
    throw new AdapterRequestError(422, "registry.url must be an http or https URL");
  }
  const authorization = registry.authorization ?? "";
  if (typeof authorization !== "string" || authorization.length > 16_384 || /[\r\n]/.test(authorization)) {
    throw new AdapterRequestError(422, "registry.authorization must be an Authorization header value");
  }
  const { repository, digest } = artifact;
  const mimeType = artifact.mime_type ?? SCANNABLE_MANIFESTS[0];
  if (typeof repository !== "string" || repository.length > 255 || !REPOSITORY.test(repository)) throw new AdapterRequestError(422, "artifact.repository must be a repository name");
  if (typeof digest !== "string" || !DIGEST.test(digest)) throw new AdapterRequestError(422, "artifact.digest must be a sha256 or sha512 digest");
  if (typeof mimeType !== "string") throw new AdapterRequestError(422, "artifact.mime_type must be a string");
  return {
    registry: { url: registry.url, authorization },
    artifact: { repository, digest, mime_type: mimeType, ...(typeof artifact.tag === "string" ? { tag: artifact.tag } : {}) },
  };
}

/** A media type without its parameters' spacing and case differences (`a; version=1.1` = `A;version=1.1`). */
export function normalizedMediaType(value: string): string {
  return value
    .split(";")
    .map((part) => part.trim().toLowerCase())
    .filter(Boolean)
    .join(";");
}
