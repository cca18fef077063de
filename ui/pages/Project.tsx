import { getJson } from "../api/client";
import type { Permission, Project as ProjectType } from "../api/types";
import { ErrorMessage } from "../components/ErrorMessage";
import { Tabs } from "../components/Tabs";
import { Link } from "../lib/router";
import { useApi } from "../lib/use-api";
import { PROJECT_TABS } from "./project-tabs";

async function loadProject(name: string) {
  // By name even when the name is all digits (Harbor's X-Is-Resource-Name).
  const project = await getJson<ProjectType>(`/api/v2.0/projects/${encodeURIComponent(name)}`, { "X-Is-Resource-Name": "true" });
  const permissions = await getJson<Permission[]>(`/api/v2.0/users/current/permissions?scope=/project/${project.project_id}&relative=true`);
  return { project, permissions };
}

/** A project page: its name, the tabs the caller may use, and the current tab's content. */
export function Project(props: { name: string; tab: string }) {
  const result = useApi(() => loadProject(props.name), props.name);
  if (result.state === "error") return <ErrorMessage error={result.error} />;
  if (result.state === "loading") return <p aria-busy="true">Loading…</p>;
  const { project, permissions } = result.value;
  const allowed = PROJECT_TABS.filter((tab) => permissions.some((p) => p.resource === tab.needs.resource && p.action === tab.needs.action));
  const current = allowed.find((tab) => tab.path === props.tab);
  const base = `/projects/${encodeURIComponent(project.name)}`;
  return (
    <section aria-labelledby="project-title">
      <p class="breadcrumb">
        <Link href="/projects">Projects</Link> /
      </p>
      <h1 id="project-title">{project.name}</h1>
      <Tabs label="Project sections" tabs={allowed.map((tab) => ({ label: tab.label, href: `${base}/${tab.path}` }))} current={`${base}/${props.tab}`} />
      {current ? <current.page project={project} /> : <p role="alert">This section does not exist or is not available to you.</p>}
    </section>
  );
}
