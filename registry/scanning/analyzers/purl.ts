/**
 * Package URLs (purl-spec) for language packages. Each path segment and the version are percent-encoded on their
 * own, so a scope's `@` becomes `%40` and a version's `+` becomes `%2B`, while the `/` between segments stays.
 */

function encodeSegment(segment: string): string {
  return encodeURIComponent(segment);
}

/** `pkg:<type>/<segment>/…@<version>`; the version part is left out when the version is unknown (empty). */
export function purl(type: string, segments: string[], version: string): string {
  const path = segments.map(encodeSegment).join("/");
  return version === "" ? `pkg:${type}/${path}` : `pkg:${type}/${path}@${encodeSegment(version)}`;
}
