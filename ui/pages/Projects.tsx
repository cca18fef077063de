import { useState } from "preact/hooks";
import { getJson, getPage } from "../api/client";
import type { Project, ProjectManagedByPolicy, ProjectSummary } from "../api/types";
import { CreateProjectDialog } from "../components/CreateProjectDialog";
import { ManagedBadge } from "../components/ManagedBadge";
import { PagedTable, type Column } from "../components/PagedTable";
import { formatBytes, formatDate } from "../lib/format";
import { Link, navigate, useLocation } from "../lib/router";
import { useSession } from "../lib/session-context";

type Row = Project & ProjectManagedByPolicy & { summary: ProjectSummary | null };

/** Projects of one page with their summaries (quota use where the caller may read it), asked for in parallel. */
async function loadProjects(search: string, page: number, pageSize: number) {
  const q = search ? `?q=${encodeURIComponent(`name=~${search}`)}` : "";
  const { items, total } = await getPage<Project & ProjectManagedByPolicy>(`/api/v2.0/projects${q}`, page, pageSize);
  const summaries = await Promise.all(
    items.map((project) => getJson<ProjectSummary>(`/api/v2.0/projects/${project.project_id}/summary`).catch(() => null)),
  );
  return { items: items.map((project, i): Row => ({ ...project, summary: summaries[i] })), total };
}

function QuotaCell(props: { summary: ProjectSummary | null }) {
  const quota = props.summary?.quota;
  if (!quota) return <span class="muted">—</span>;
  const { used, hard } = { used: quota.used.storage, hard: quota.hard.storage };
  if (hard < 0) return <span>{formatBytes(used)} of unlimited</span>;
  return (
    <span class="quota">
      <meter min={0} max={hard} value={used} aria-label="Storage used" /> {formatBytes(used)} of {formatBytes(hard)}
    </span>
  );
}

const COLUMNS: Column<Row>[] = [
  {
    header: "Name",
    cell: (p) => (
      <span class="project-name">
        <Link href={`/projects/${encodeURIComponent(p.name)}/repositories`}>{p.name}</Link>
        {/* The list says only which file declares the project; the project page adds whether hand-made changes are reverted. */}
        <ManagedBadge object={p.managed_by_policy ? { kind: "project", key: p.name, file: p.managed_by_policy, adopted: false, since: "" } : undefined} gitops={null} />
      </span>
    ),
  },
  { header: "Access", cell: (p) => (p.metadata.public === "true" ? "Public" : "Private") },
  { header: "Repositories", numeric: true, cell: (p) => p.repo_count },
  { header: "Storage", cell: (p) => <QuotaCell summary={p.summary} /> },
  { header: "Created", cell: (p) => formatDate(p.creation_time) },
];

/** Projects the caller can see: searched by name (the search is part of the address), paged by the API. */
export function Projects() {
  const session = useSession();
  const { query } = useLocation();
  const search = query.get("q") ?? "";
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState(0);
  const onSearch = (event: SubmitEvent) => {
    event.preventDefault();
    const value = String(new FormData(event.currentTarget as HTMLFormElement).get("q") ?? "").trim();
    navigate(value ? `/projects?q=${encodeURIComponent(value)}` : "/projects", { replace: true });
  };
  return (
    <section aria-labelledby="projects-title">
      <div class="page-head">
        <h1 id="projects-title">Projects</h1>
        {session.canCreateProject ? (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            New project
          </button>
        ) : null}
      </div>
      <form class="search" role="search" onSubmit={onSearch}>
        <label for="project-search">Search projects by name</label>
        <input id="project-search" name="q" type="search" value={search} />
        <button type="submit">Search</button>
      </form>
      <PagedTable<Row>
        caption="Projects"
        columns={COLUMNS}
        load={(page, size) => loadProjects(search, page, size)}
        rowKey={(p) => p.project_id}
        reloadKey={`${search}\n${created}`}
        empty={search ? `No project name contains "${search}".` : "No projects yet."}
      />
      {creating ? (
        <CreateProjectDialog
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            setCreated((n) => n + 1);
          }}
        />
      ) : null}
    </section>
  );
}
