import type { Platform } from "../api/types";

/**
 * Addresses of a repository and its artifacts. The API names a repository inside its project, and a name holding
 * slashes is encoded twice in API paths (Harbor's `a%252Fb`); UI addresses carry it as one encoded segment, as
 * Harbor's portal does, so `a/b` never collides with a page below the repository.
 */
export interface RepositoryRef {
  project: string;
  /** The name inside the project: "team/app" of "library/team/app". */
  repository: string;
}

export function repositoryApi(ref: RepositoryRef): string {
  return `/api/v2.0/projects/${encodeURIComponent(ref.project)}/repositories/${encodeURIComponent(encodeURIComponent(ref.repository))}`;
}

export function artifactApi(ref: RepositoryRef, reference: string): string {
  return `${repositoryApi(ref)}/artifacts/${encodeURIComponent(reference)}`;
}

export function repositoryPage(ref: RepositoryRef): string {
  return `/projects/${encodeURIComponent(ref.project)}/repositories/${encodeURIComponent(ref.repository)}`;
}

export function artifactPage(ref: RepositoryRef, digest: string, section?: string): string {
  return `${repositoryPage(ref)}/artifacts/${encodeURIComponent(digest)}${section ? `/${section}` : ""}`;
}

/** The full name clients pull: registry host, project, repository. */
export function pullName(host: string, ref: RepositoryRef): string {
  return `${host}/${ref.project}/${ref.repository}`;
}

/** `docker pull` of a tag when there is one (Harbor's portal does the same), else of the digest. */
export function pullCommand(host: string, ref: RepositoryRef, digest: string, tag?: string): string {
  return `docker pull ${pullName(host, ref)}${tag ? `:${tag}` : `@${digest}`}`;
}

export function platformName(platform: Platform | null | undefined): string {
  if (!platform) return "unknown";
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join("/");
}

/** "sha256:0123456789ab", as Harbor's lists show a digest. */
export function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.split(":");
  return hex ? `${algorithm}:${hex.slice(0, 12)}` : digest;
}
