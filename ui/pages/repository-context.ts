import { getJson } from "../api/client";
import type { RegistryInfo } from "../api/types";
import { loadProject } from "./Project";

/** What the repository and artifact pages need first: the project, the caller's permissions there, the pull host. */
export async function loadRepositoryContext(projectName: string) {
  const [{ project, permissions }, info] = await Promise.all([loadProject(projectName), getJson<RegistryInfo>("/api/v2.0/systeminfo")]);
  return { project, permissions, host: info.registry_url ?? location.host };
}
