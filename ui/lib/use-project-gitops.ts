import { getJson } from "../api/client";
import type { ManagedObject, ProjectGitOps } from "../api/types";
import { useApi } from "./use-api";

/** What the GitOps controller manages in `project` (null while loading or when the caller may not ask). */
export function useProjectGitOps(project: string): ProjectGitOps | null {
  const result = useApi(() => getJson<ProjectGitOps>(`/api/v2.0/projects/${encodeURIComponent(project)}/gitops`), project);
  return result.state === "ok" ? result.value : null;
}

/** The managed object of `kind` and `key` (members: "project/username", robots: "project+name"), if managed. */
export function managedObject(gitops: ProjectGitOps | null, kind: string, key: string): ManagedObject | undefined {
  return gitops?.objects.find((object) => object.kind === kind && object.key === key);
}

/** Whether a change made by hand to a managed object will be put back by the next drift run. */
export function reverts(gitops: ProjectGitOps | null): boolean {
  return gitops !== null && !gitops.suspended && gitops.drift_mode === "correct";
}
