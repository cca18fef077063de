import { getJson } from "../api/client";
import type { GitOpsStatus, ManagedObject, ProjectGitOps } from "../api/types";
import { useApi } from "./use-api";

/**
 * System objects of `kind` the GitOps controller manages (users, registries, replication policies: keyed by name),
 * in the shape of a project's gitops so ManagedBadge and managedObject() read it alike. System admins only; null
 * while loading or when the caller may not ask.
 */
export function useSystemGitOps(kind: string): ProjectGitOps | null {
  const result = useApi(async () => {
    const [status, objects] = await Promise.all([
      getJson<GitOpsStatus>("/api/v2.0/gitops/status"),
      getJson<ManagedObject[]>(`/api/v2.0/gitops/managed?kind=${encodeURIComponent(kind)}`),
    ]);
    return { managed: status.managed, suspended: status.suspended, drift_mode: status.drift_mode, objects };
  }, kind);
  return result.state === "ok" ? result.value : null;
}
