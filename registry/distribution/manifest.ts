import { OciError } from "./errors";
import { parseDigest } from "./digest";
import type { ManifestReference } from "./metadata";

export const MEDIA_TYPES = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;

const IMAGE_MANIFESTS: ReadonlySet<string> = new Set([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);
const INDEXES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);
export const MANIFEST_MEDIA_TYPES: readonly string[] = [...IMAGE_MANIFESTS, ...INDEXES];

// Layers that live elsewhere by design (Windows base layers): the registry is not expected to hold them.
const FOREIGN_LAYERS = new Set([
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
]);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ParsedManifest {
  mediaType: string;
  references: ManifestReference[];
  subject: Descriptor | null;
  /** artifactType, else the config media type of an image manifest (what the referrers API reports). */
  artifactType: string | null;
  annotations: Record<string, string> | null;
}

function invalid(message: string): never {
  throw new OciError("MANIFEST_INVALID", message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// PostgreSQL text and jsonb refuse NUL and unpaired surrogates; strings the database keeps (annotations, artifact
// types) must be free of them, or a bad manifest would fail as a 500 instead of MANIFEST_INVALID.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isStorableString(value: unknown): value is string {
  return typeof value === "string" && !UNSTORABLE.test(value);
}

function descriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) invalid(`${where}: descriptor must be an object`);
  const { mediaType, digest, size } = value;
  if (!isStorableString(mediaType) || mediaType === "") invalid(`${where}: mediaType must be a non-empty string of valid Unicode without NUL`);
  if (typeof digest !== "string" || !parseDigest(digest)) invalid(`${where}: digest is missing or invalid`);
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) invalid(`${where}: size must be a non-negative integer`);
  return value as unknown as Descriptor;
}

function annotations(value: unknown, where: string): Record<string, string> | null {
  if (value === undefined) return null;
  if (!isObject(value) || Object.entries(value).some(([k, v]) => !isStorableString(k) || !isStorableString(v))) {
    invalid(`${where}: annotations must map strings to strings (valid Unicode, without NUL)`);
  }
  return value as Record<string, string>;
}

/** The media type the body declares, reconciled with the request's Content-Type. */
function resolveMediaType(body: Record<string, unknown>, contentType: string | undefined): string {
  const declared = typeof body.mediaType === "string" ? body.mediaType : undefined;
  const header = contentType?.split(";")[0].trim();
  const headerIsManifestType = header !== undefined && MANIFEST_MEDIA_TYPES.includes(header);
  if (declared !== undefined && headerIsManifestType && declared !== header) {
    invalid(`mediaType ${declared} in the manifest does not match Content-Type ${header}`);
  }
  const mediaType = declared ?? (headerIsManifestType ? header : undefined);
  if (mediaType === undefined) {
    // An OCI manifest may omit mediaType; its shape tells which one it is.
    if (Array.isArray(body.manifests)) return MEDIA_TYPES.ociIndex;
    if (isObject(body.config)) return MEDIA_TYPES.ociManifest;
    invalid(`unsupported manifest media type ${header ?? "(none)"}`);
  }
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) invalid(`unsupported manifest media type ${mediaType}`);
  return mediaType;
}

/** Parses and checks a manifest body; throws MANIFEST_INVALID with the reason when it is malformed. */
export function parseManifest(content: Buffer, contentType: string | undefined): ParsedManifest {
  let body: unknown;
  try {
    body = JSON.parse(content.toString("utf8"));
  } catch (error) {
    invalid(`manifest is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(body)) invalid("manifest must be a JSON object");
  if (body.schemaVersion !== 2) invalid("schemaVersion must be 2");
  const mediaType = resolveMediaType(body, contentType);
  const subject = body.subject === undefined ? null : descriptor(body.subject, "subject");
  const declaredArtifactType = body.artifactType;
  if (declaredArtifactType !== undefined && !isStorableString(declaredArtifactType)) invalid("artifactType must be a string of valid Unicode without NUL");

  const references: ManifestReference[] = [];
  let artifactType = (declaredArtifactType as string | undefined) ?? null;
  if (IMAGE_MANIFESTS.has(mediaType)) {
    const config = descriptor(body.config, "config");
    if (!Array.isArray(body.layers)) invalid("layers must be an array");
    references.push({ digest: config.digest, kind: "blob" });
    body.layers.forEach((layer, i) => {
      const d = descriptor(layer, `layers[${i}]`);
      if (!FOREIGN_LAYERS.has(d.mediaType)) references.push({ digest: d.digest, kind: "blob" });
    });
    artifactType ??= config.mediaType;
  } else {
    if (!Array.isArray(body.manifests)) invalid("manifests must be an array");
    body.manifests.forEach((child, i) => {
      references.push({ digest: descriptor(child, `manifests[${i}]`).digest, kind: "manifest" });
    });
  }
  return { mediaType, references: distinct(references), subject, artifactType, annotations: annotations(body.annotations, "annotations") };
}

/** One entry per digest and kind, in first-seen order: a layer listed 27 000 times is one reference. */
function distinct(references: ManifestReference[]): ManifestReference[] {
  const byKey = new Map<string, ManifestReference>();
  for (const reference of references) if (!byKey.has(`${reference.kind}:${reference.digest}`)) byKey.set(`${reference.kind}:${reference.digest}`, reference);
  return [...byKey.values()];
}

/** Refuses a manifest that refers to more distinct blobs and manifests than `limit` (each is a row the push writes). */
export function assertReferenceLimit(parsed: ParsedManifest, limit: number): void {
  if (parsed.references.length <= limit) return;
  throw new OciError(
    "MANIFEST_INVALID",
    `manifest refers to ${parsed.references.length} distinct blobs and manifests; at most ${limit} are accepted (BERTH_MAX_MANIFEST_REFERENCES)`,
    { limit, references: parsed.references.length },
  );
}
