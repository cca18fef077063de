import { getPage } from "../api/client";
import type { Project, Repository } from "../api/types";
import { CopyButton } from "../components/CopyButton";
import { PagedTable, type Column } from "../components/PagedTable";
import { formatDate } from "../lib/format";
import { repositoryPage } from "../lib/repository-paths";
import { Link } from "../lib/router";

/** The repository's name inside its project: the API names repositories with the project in front. */
function shortName(project: Project, repository: Repository): string {
  return repository.name.startsWith(`${project.name}/`) ? repository.name.slice(project.name.length + 1) : repository.name;
}

/** A project's repositories, paged by the API; each with the pull command to copy. */
export function ProjectRepositories(props: { project: Project }) {
  const { project } = props;
  const base = `/api/v2.0/projects/${encodeURIComponent(project.name)}/repositories`;
  const columns: Column<Repository>[] = [
    { header: "Name", cell: (r) => <Link href={repositoryPage({ project: project.name, repository: shortName(project, r) })}>{r.name}</Link> },
    { header: "Artifacts", numeric: true, cell: (r) => r.artifact_count },
    { header: "Pulls", numeric: true, cell: (r) => r.pull_count },
    { header: "Last modified", cell: (r) => formatDate(r.update_time) },
    {
      header: "Pull command",
      cell: (r) => <CopyButton text={`docker pull ${location.host}/${project.name}/${shortName(project, r)}`} label={`the pull command of ${r.name}`} />,
    },
  ];
  return (
    <PagedTable<Repository>
      caption={`Repositories of ${project.name}`}
      columns={columns}
      load={(page, size) => getPage<Repository>(base, page, size)}
      rowKey={(r) => r.id}
      reloadKey={project.name}
      empty="No repositories yet: push an image to create one."
    />
  );
}
