import { getJson } from "../api/client";
import type { Project, ProjectSummary as Summary } from "../api/types";
import { ErrorMessage } from "../components/ErrorMessage";
import { formatBytes, formatDate } from "../lib/format";
import { useApi } from "../lib/use-api";

/** The project's summary: access, repositories, quota use (where the caller may read it), creation date. */
export function ProjectSummary(props: { project: Project }) {
  const { project } = props;
  const result = useApi(() => getJson<Summary>(`/api/v2.0/projects/${project.project_id}/summary`), String(project.project_id));
  if (result.state === "error") return <ErrorMessage error={result.error} />;
  const summary = result.state === "ok" ? result.value : null;
  return (
    <dl class="facts" aria-busy={result.state === "loading"}>
      <dt>Access</dt>
      <dd>{project.metadata.public === "true" ? "Public" : "Private"}</dd>
      <dt>Repositories</dt>
      <dd>{summary?.repo_count ?? project.repo_count}</dd>
      {summary?.quota ? (
        <>
          <dt>Storage</dt>
          <dd>
            {formatBytes(summary.quota.used.storage)} of {formatBytes(summary.quota.hard.storage)}
          </dd>
        </>
      ) : null}
      <dt>Created</dt>
      <dd>{formatDate(project.creation_time)}</dd>
    </dl>
  );
}
