import { useState } from "preact/hooks";
import { getJson, getPage, send } from "../api/client";
import type { Artifact, Permission, RepositoryDetail } from "../api/types";
import { AddTagDialog, TagChips } from "../components/ArtifactTags";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { CopyButton } from "../components/CopyButton";
import { ErrorMessage } from "../components/ErrorMessage";
import { PagedTable, type Column } from "../components/PagedTable";
import { ScanSummaryView, vulnerabilityOverview } from "../components/ScanSummary";
import { formatBytes, formatDate } from "../lib/format";
import { can } from "../lib/permissions";
import { artifactApi, artifactPage, platformName, pullCommand, repositoryApi, shortDigest, type RepositoryRef } from "../lib/repository-paths";
import { Link } from "../lib/router";
import { useApi } from "../lib/use-api";
import { loadRepositoryContext } from "./repository-context";

async function loadRepository(ref: RepositoryRef) {
  const [context, repository] = await Promise.all([loadRepositoryContext(ref.project), getJson<RepositoryDetail>(repositoryApi(ref))]);
  return { ...context, repository };
}

/** What an artifact is: an image, an index with its platforms, or another artifact by its type. */
export function ArtifactKind(props: { artifact: Artifact }) {
  const { artifact } = props;
  if (artifact.type === "IMAGE_INDEX") {
    const platforms = (artifact.references ?? []).map((reference) => platformName(reference.platform));
    return (
      <span>
        Index <span class="sub muted">{platforms.join(", ") || "no children"}</span>
      </span>
    );
  }
  if (artifact.type === "IMAGE") return <span>Image</span>;
  return <span title={artifact.media_type}>{artifact.artifact_type || "Artifact"}</span>;
}

/** The signatures, SBOMs and other referrers of an artifact, each linking to its own page, and its SBOM's state. */
export function Referrers(props: { target: RepositoryRef; artifact: Artifact }) {
  const accessories = props.artifact.accessories ?? [];
  const sbom = props.artifact.sbom_overview;
  if (accessories.length === 0 && !sbom) return <span class="muted">—</span>;
  return (
    <ul class="plain-list">
      {sbom ? <li>SBOM: {sbom.scan_status}</li> : null}
      {accessories.map((accessory) => (
        <li key={accessory.digest}>
          <Link href={artifactPage(props.target, accessory.digest)}>{accessory.artifact_type.replace(/^application\//, "") || shortDigest(accessory.digest)}</Link>
        </li>
      ))}
    </ul>
  );
}

type Pending = { kind: "delete" | "tag"; artifact: Artifact } | null;

function artifactColumns(target: RepositoryRef, host: string, permissions: Permission[], reload: () => void, act: (pending: Pending) => void): Column<Artifact>[] {
  const mayDelete = can(permissions, "artifact", "delete");
  const mayTag = can(permissions, "tag", "create");
  const columns: Column<Artifact>[] = [
    {
      header: "Artifacts",
      cell: (a) => (
        <span class="digest-cell">
          <Link href={artifactPage(target, a.digest)}>
            <code>{shortDigest(a.digest)}</code>
          </Link>{" "}
          <CopyButton text={a.digest} label={`the digest ${a.digest}`} />
        </span>
      ),
    },
    {
      header: "Pull command",
      cell: (a) => {
        const command = pullCommand(host, target, a.digest, a.tags?.[0]?.name);
        return (
          <span title={command}>
            <CopyButton text={command} label={`the pull command ${command}`} />
          </span>
        );
      },
    },
    { header: "Tags", cell: (a) => <TagChips api={artifactApi(target, a.digest)} tags={a.tags} canDelete={can(permissions, "tag", "delete")} onChange={reload} /> },
    { header: "Type", cell: (a) => <ArtifactKind artifact={a} /> },
    { header: "Size", numeric: true, cell: (a) => formatBytes(a.size) },
    { header: "Vulnerabilities", cell: (a) => <ScanSummaryView overview={vulnerabilityOverview(a)} /> },
    { header: "SBOM & referrers", cell: (a) => <Referrers target={target} artifact={a} /> },
    { header: "Push time", cell: (a) => formatDate(a.push_time) },
    { header: "Pull time", cell: (a) => formatDate(a.pull_time) },
  ];
  if (mayDelete || mayTag) {
    columns.push({
      header: "Actions",
      cell: (a) => (
        <span class="row-actions">
          {mayTag ? (
            <button type="button" onClick={() => act({ kind: "tag", artifact: a })} aria-label={`Add a tag to ${shortDigest(a.digest)}`}>
              Add tag
            </button>
          ) : null}
          {mayDelete ? (
            <button type="button" class="danger" onClick={() => act({ kind: "delete", artifact: a })} aria-label={`Delete ${shortDigest(a.digest)}`}>
              Delete
            </button>
          ) : null}
        </span>
      ),
    });
  }
  return columns;
}

/**
 * A repository: its description and its artifacts (paged by the API, with tags, type and platforms, size,
 * vulnerability and SBOM status, referrers, push and pull times), with tag and delete actions the caller may take.
 */
export function Repository(props: { project: string; repository: string }) {
  const target: RepositoryRef = { project: props.project, repository: props.repository };
  const result = useApi(() => loadRepository(target), `${props.project}\n${props.repository}`);
  const [changes, setChanges] = useState(0);
  const [pending, setPending] = useState<Pending>(null);
  if (result.state === "error") return <ErrorMessage error={result.error} />;
  if (result.state === "loading") return <p aria-busy="true">Loading…</p>;
  const { project, permissions, host, repository } = result.value;
  const reload = () => setChanges((n) => n + 1);
  const done = () => {
    setPending(null);
    reload();
  };
  const projectBase = `/projects/${encodeURIComponent(project.name)}`;
  const list = `${repositoryApi(target)}/artifacts?with_tag=true&with_scan_overview=true&with_sbom_overview=true&with_accessory=true`;
  return (
    <section aria-labelledby="repository-title">
      <p class="breadcrumb">
        <Link href="/projects">Projects</Link> / <Link href={`${projectBase}/repositories`}>{project.name}</Link> /
      </p>
      <h1 id="repository-title">{props.repository}</h1>
      <dl class="facts">
        <dt>Description</dt>
        <dd>{repository.description || <span class="muted">No description.</span>}</dd>
        <dt>Pull</dt>
        <dd class="pull">
          <code>docker pull {`${host}/${project.name}/${props.repository}`}</code>
          <CopyButton text={`docker pull ${host}/${project.name}/${props.repository}`} label="the repository's pull command" />
        </dd>
        <dt>Artifacts</dt>
        <dd>{repository.artifact_count}</dd>
        <dt>Pulls</dt>
        <dd>{repository.pull_count}</dd>
        <dt>Last modified</dt>
        <dd>{formatDate(repository.update_time)}</dd>
      </dl>
      <h2 class="section-title">Artifacts</h2>
      <div class="artifact-list">
        <PagedTable<Artifact>
          caption={`Artifacts of ${repository.name}`}
          columns={artifactColumns(target, host, permissions, reload, setPending)}
          load={(page, size) => getPage<Artifact>(list, page, size)}
          rowKey={(a) => a.digest}
          reloadKey={`${repository.name}\n${changes}`}
          empty="No artifacts: the repository is empty."
        />
      </div>
      {pending?.kind === "delete" ? (
        <ConfirmDialog
          title="Delete artifact"
          message={`Delete ${repository.name}@${pending.artifact.digest}${pending.artifact.tags?.length ? ` and its tags ${pending.artifact.tags.map((t) => t.name).join(", ")}` : ""}? This cannot be undone.`}
          confirm="Delete"
          action={async () => {
            await send(artifactApi(target, pending.artifact.digest), "DELETE");
            done();
          }}
          onClose={() => setPending(null)}
        />
      ) : null}
      {pending?.kind === "tag" ? <AddTagDialog api={artifactApi(target, pending.artifact.digest)} onClose={() => setPending(null)} onAdded={done} /> : null}
    </section>
  );
}
