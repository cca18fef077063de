import { getJson } from "../api/client";
import type { Permission, Project as ProjectType } from "../api/types";
import { ErrorMessage } from "../components/ErrorMessage";
import { Tabs } from "../components/Tabs";
import { can } from "../lib/permissions";
import { Link } from "../lib/router";
import { managedObject, useProjectGitOps } from "../lib/use-project-gitops";
import { ManagedBadge } from "../components/ManagedBadge";
import { useApi } from "../lib/use-api";
import { PROJECT_TABS } from "./project-tabs";

export async function loadProject(name: string) {
  // By name even when the name is all digits (Harbor's X-Is-Resource-Name).
  const project = await getJson<ProjectType>(`/api/v2.0/projects/${encodeURIComponent(name)}`, { "X-Is-Resource-Name": "true" });
  const permissions = await getJson<Permission[]>(`/api/v2.0/users/current/permissions?scope=/project/${project.project_id}&relative=true`);
  return { project, permissions };
}

/** A project page: its name, the tabs the caller may use, and the current tab's content. */
export function Project(props: { name: string; tab: string }) {
  const result = useApi(() => loadProject(props.name), props.name);
  const gitops = useProjectGitOps(props.name);
  if (result.state === "error") return <ErrorMessage error={result.error} />;
  if (result.state === "loading") return <p aria-busy="true">Loading…</p>;
  const { project, permissions } = result.value;
  const allowed = PROJECT_TABS.filter((tab) => can(permissions, tab.needs.resource, tab.needs.action));
  const current = allowed.find((tab) => tab.path === props.tab);
  const base = `/projects/${encodeURIComponent(project.name)}`;
  return (
    <section aria-labelledby="project-title">
      <p class="breadcrumb">
        <Link href="/projects">Projects</Link> /
      </p>
      <div class="page-head">
        <h1 id="project-title">{project.name}</h1>
        <ManagedBadge object={managedObject(gitops, "project", project.name)} gitops={gitops} detailed />
      </div>
      <Tabs label="Project sections" tabs={allowed.map((tab) => ({ label: tab.label, href: `${base}/${tab.path}` }))} current={`${base}/${props.tab}`} />
      {current ? <current.page project={project} permissions={permissions} /> : <p role="alert">This section does not exist or is not available to you.</p>}
    </section>
  );
}
