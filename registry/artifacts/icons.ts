import { createHash } from "node:crypto";

/**
 * Harbor's artifact-type icons: an artifact names its icon by digest (`icon`), and GET /icons/{digest} serves it.
 * Berth's are small built-in SVGs (a badge with the type's initials), so nothing is fetched or stored.
 */
interface Icon {
  digest: string;
  content: Buffer;
}

function badge(label: string, colour: string): Icon {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">` +
    `<rect x="2" y="2" width="60" height="60" rx="12" fill="${colour}"/>` +
    `<text x="32" y="40" font-family="sans-serif" font-size="20" font-weight="bold" fill="#fff" text-anchor="middle">${label}</text></svg>`;
  const content = Buffer.from(svg);
  return { digest: `sha256:${createHash("sha256").update(content).digest("hex")}`, content };
}

const IMAGE = badge("OCI", "#1d63ed");
const UNKNOWN = badge("?", "#6b7280");

// Config media types of the artifact types Harbor knows; images (and indexes) have the image icon.
const BY_CONFIG: Record<string, Icon> = {
  "application/vnd.cncf.helm.config.v1+json": badge("HELM", "#0f1689"),
  "application/vnd.cnab.config.v1+json": badge("CNAB", "#7c3aed"),
  "application/vnd.wasm.config.v1+json": badge("WASM", "#654ff0"),
  "application/vnd.dev.cosign.artifact.sig.v1+json": badge("SIG", "#059669"),
  "application/vnd.cncf.notary.signature": badge("SIG", "#059669"),
  "application/vnd.goharbor.harbor.sbom.v1": badge("SBOM", "#b45309"),
  "application/spdx+json": badge("SBOM", "#b45309"),
  "application/vnd.cyclonedx+json": badge("SBOM", "#b45309"),
};

const ALL = new Map([IMAGE, UNKNOWN, ...Object.values(BY_CONFIG)].map((icon) => [icon.digest, icon]));

/** The icon digest of an artifact: by its config media type, the image icon for images and indexes. */
export function iconOf(kind: "IMAGE_INDEX" | "IMAGE" | "ARTIFACT" | "CHART", artifactType: string | null): string {
  if (kind === "IMAGE" || kind === "IMAGE_INDEX") return IMAGE.digest;
  return (artifactType !== null ? BY_CONFIG[artifactType] : undefined)?.digest ?? UNKNOWN.digest;
}

/** Harbor's Icon: `{content_type, content}` with the content base64-encoded; null for an unknown digest. */
export function iconByDigest(digest: string): { content_type: string; content: string } | null {
  const icon = ALL.get(digest);
  return icon ? { content_type: "image/svg+xml", content: icon.content.toString("base64") } : null;
}
