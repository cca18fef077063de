import { useEffect, useState } from "preact/hooks";
import { getJson, send } from "../api/client";
import type { Artifact as ArtifactType, BuildStep, Manifest, Permission, ScanSummary, Severity, Vulnerability, VulnerabilityReport } from "../api/types";
import { AddTagDialog, TagChips } from "../components/ArtifactTags";
import { CopyButton } from "../components/CopyButton";
import { ErrorMessage } from "../components/ErrorMessage";
import { REPORT_MIME_TYPE, ScanSummaryView, SEVERITIES, SeverityBadge, vulnerabilityOverview } from "../components/ScanSummary";
import { Tabs } from "../components/Tabs";
import { formatBytes, formatDate } from "../lib/format";
import { can } from "../lib/permissions";
import { artifactApi, artifactPage, platformName, pullCommand, repositoryPage, shortDigest, type RepositoryRef } from "../lib/repository-paths";
import { Link, useLocation } from "../lib/router";
import { useApi } from "../lib/use-api";
import { ArtifactKind, Referrers } from "./Repository";
import { loadRepositoryContext } from "./repository-context";

const WITH_ALL = "?with_tag=true&with_scan_overview=true&with_sbom_overview=true&with_accessory=true";

async function loadArtifact(target: RepositoryRef, digest: string) {
  const api = artifactApi(target, digest);
  const [context, artifact, manifest] = await Promise.all([
    loadRepositoryContext(target.project),
    getJson<ArtifactType>(`${api}${WITH_ALL}`),
    getJson<Manifest>(`${api}/additions/manifest`),
  ]);
  return { ...context, artifact, manifest };
}

interface Shown {
  target: RepositoryRef;
  artifact: ArtifactType;
  manifest: Manifest;
  permissions: Permission[];
  host: string;
  reload: () => void;
}

function Overview(props: Shown) {
  const { target, artifact, manifest, permissions, host } = props;
  const [adding, setAdding] = useState(false);
  const api = artifactApi(target, artifact.digest);
  const attrs = artifact.extra_attrs ?? {};
  const command = pullCommand(host, target, artifact.digest, artifact.tags?.[0]?.name);
  const layers = manifest.layers ?? [];
  return (
    <>
      <dl class="facts">
        <dt>Digest</dt>
        <dd class="pull">
          <code class="wrap">{artifact.digest}</code>
          <CopyButton text={artifact.digest} label="the digest" />
        </dd>
        <dt>Pull command</dt>
        <dd class="pull">
          <code class="wrap">{command}</code>
          <CopyButton text={command} label="the pull command" />
        </dd>
        <dt>Tags</dt>
        <dd class="pull">
          <TagChips api={api} tags={artifact.tags} canDelete={can(permissions, "tag", "delete")} onChange={props.reload} />
          {can(permissions, "tag", "create") ? (
            <button type="button" onClick={() => setAdding(true)}>
              Add tag
            </button>
          ) : null}
        </dd>
        <dt>Type</dt>
        <dd>
          <ArtifactKind artifact={artifact} /> <span class="muted">{artifact.media_type}</span>
        </dd>
        <dt>Size</dt>
        <dd>{formatBytes(artifact.size)}</dd>
        <dt>Push time</dt>
        <dd>{formatDate(artifact.push_time)}</dd>
        <dt>Pull time</dt>
        <dd>{formatDate(artifact.pull_time)}</dd>
        {attrs.os || attrs.architecture ? (
          <>
            <dt>OS / architecture</dt>
            <dd>{platformName({ os: attrs.os ?? "", architecture: attrs.architecture ?? "", variant: attrs.variant })}</dd>
            <dt>Created</dt>
            <dd>{formatDate(attrs.created)}</dd>
            <dt>Author</dt>
            <dd>{attrs.author || <span class="muted">—</span>}</dd>
          </>
        ) : null}
        <dt>Referrers</dt>
        <dd>
          <Referrers target={target} artifact={artifact} />
        </dd>
      </dl>
      {artifact.type === "IMAGE_INDEX" ? (
        <>
          <h2 class="section-title">Child manifests</h2>
          <div class="table-scroll">
            <table>
              <caption class="visually-hidden">Child manifests</caption>
              <thead>
                <tr>
                  <th scope="col">Digest</th>
                  <th scope="col">Platform</th>
                  <th scope="col" class="numeric">
                    Manifest size
                  </th>
                </tr>
              </thead>
              <tbody>
                {(manifest.manifests ?? []).map((child) => (
                  <tr key={child.digest}>
                    <td>
                      <Link href={artifactPage(target, child.digest)}>
                        <code>{shortDigest(child.digest)}</code>
                      </Link>
                    </td>
                    <td>{platformName(child.platform)}</td>
                    <td class="numeric">{formatBytes(child.size)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : (
        <>
          <h2 class="section-title">Layers</h2>
          <div class="table-scroll">
            <table>
              <caption class="visually-hidden">Layers</caption>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Digest</th>
                  <th scope="col">Media type</th>
                  <th scope="col" class="numeric">
                    Size
                  </th>
                </tr>
              </thead>
              <tbody>
                {layers.map((layer, i) => (
                  <tr key={`${i}-${layer.digest}`}>
                    <td>{i + 1}</td>
                    <td>
                      <code>{shortDigest(layer.digest)}</code>
                    </td>
                    <td>{layer.mediaType}</td>
                    <td class="numeric">{formatBytes(layer.size)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {layers.length === 0 ? <p class="empty">No layers.</p> : <p class="muted">{layers.length} layers, {formatBytes(layers.reduce((sum, layer) => sum + layer.size, 0))} compressed.</p>}
        </>
      )}
      {attrs.config ? (
        <>
          <h2 class="section-title">Config</h2>
          <pre class="json">{JSON.stringify(attrs.config, null, 2)}</pre>
        </>
      ) : null}
      {adding ? (
        <AddTagDialog
          api={api}
          onClose={() => setAdding(false)}
          onAdded={() => {
            setAdding(false);
            props.reload();
          }}
        />
      ) : null}
    </>
  );
}

function running(overview: ScanSummary | undefined): boolean {
  return overview?.scan_status === "Pending" || overview?.scan_status === "Running";
}

/** The artifact's scan summary, asked again every two seconds while a scan is queued or running. */
function useScanOverview(api: string, initial: ScanSummary | undefined) {
  const [overview, setOverview] = useState(initial);
  const [waiting, setWaiting] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    if (!waiting && !running(overview)) return;
    const timer = setTimeout(() => {
      getJson<ArtifactType>(`${api}?with_scan_overview=true`).then(
        (artifact) => {
          const next = vulnerabilityOverview(artifact);
          // A requested scan may not be recorded yet: keep asking until it is, then until it ends.
          if (next && (next.end_time !== overview?.end_time || next.scan_status !== overview?.scan_status)) setWaiting(false);
          setOverview(next);
        },
        (caught: Error) => {
          setWaiting(false);
          setError(caught);
        },
      );
    }, 2000);
    return () => clearTimeout(timer);
  }, [overview, waiting]);
  return { overview, error, scanning: waiting || running(overview), requested: () => setWaiting(true) };
}

function Vulnerabilities(props: Shown) {
  const { target, artifact, permissions } = props;
  const api = artifactApi(target, artifact.digest);
  const scan = useScanOverview(api, vulnerabilityOverview(artifact));
  const [error, setError] = useState<Error | null>(null);
  const [severity, setSeverity] = useState<Severity | "">("");
  const [fixableOnly, setFixableOnly] = useState(false);
  const done = scan.overview?.scan_status === "Success" && artifact.type !== "IMAGE_INDEX";
  const report = useApi(
    () => (done ? getJson<Record<string, VulnerabilityReport>>(`${api}/additions/vulnerabilities`) : Promise.resolve(null)),
    `${done}\n${scan.overview?.end_time}`,
  );
  const onScan = async () => {
    setError(null);
    try {
      await send(`${api}/scan`, "POST");
      scan.requested();
    } catch (caught) {
      setError(caught as Error);
    }
  };
  const findings: Vulnerability[] = report.state === "ok" && report.value ? (report.value[REPORT_MIME_TYPE]?.vulnerabilities ?? []) : [];
  const shown = findings.filter((v) => (severity === "" || v.severity === severity) && (!fixableOnly || v.fix_version !== ""));
  return (
    <>
      <div class="scan-head">
        <p>
          <ScanSummaryView overview={scan.overview} />
          {scan.scanning && scan.overview?.scan_status !== "Pending" && scan.overview?.scan_status !== "Running" ? <span class="muted"> Scan requested…</span> : null}
        </p>
        {can(permissions, "scan", "create") ? (
          <button type="button" class="primary" onClick={() => void onScan()} disabled={scan.scanning}>
            Scan
          </button>
        ) : null}
      </div>
      <ErrorMessage error={error ?? scan.error} />
      {report.state === "error" ? <ErrorMessage error={report.error} /> : null}
      {artifact.type === "IMAGE_INDEX" ? (
        <p class="muted">An index has no report of its own: the summary above adds up its child manifests; open one (Overview) for its vulnerabilities.</p>
      ) : null}
      {done ? (
        <>
          <div class="filters">
            <label for="severity-filter">Severity</label>
            <select id="severity-filter" value={severity} onChange={(event) => setSeverity((event.currentTarget as HTMLSelectElement).value as Severity | "")}>
              <option value="">All severities</option>
              {SEVERITIES.map((name) => (
                <option value={name}>{name}</option>
              ))}
            </select>
            <label class="checkbox">
              <input type="checkbox" checked={fixableOnly} onChange={(event) => setFixableOnly((event.currentTarget as HTMLInputElement).checked)} /> Fixable only
            </label>
            <span class="muted" aria-live="polite">
              {shown.length} of {findings.length} vulnerabilities
            </span>
          </div>
          <div class="table-scroll">
            <table aria-busy={report.state === "loading"}>
              <caption class="visually-hidden">Vulnerabilities</caption>
              <thead>
                <tr>
                  <th scope="col">Vulnerability</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Package</th>
                  <th scope="col">Current version</th>
                  <th scope="col">Fixed in version</th>
                  <th scope="col" class="numeric">
                    CVSS3
                  </th>
                  <th scope="col">Description</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((v) => (
                  <tr key={`${v.id}\n${v.package}\n${v.version}`}>
                    <td>{v.links[0] ? <a href={v.links[0]} rel="noreferrer noopener" target="_blank">{v.id}</a> : v.id}</td>
                    <td>
                      <SeverityBadge severity={v.severity} />
                    </td>
                    <td>{v.package}</td>
                    <td>{v.version}</td>
                    <td>{v.fix_version || <span class="muted">—</span>}</td>
                    <td class="numeric" title={v.preferred_cvss?.vector_v3}>
                      {v.preferred_cvss ? v.preferred_cvss.score_v3.toFixed(1) : "—"}
                    </td>
                    <td class="description">{v.description}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {report.state === "ok" && shown.length === 0 ? <p class="empty">{findings.length === 0 ? "No vulnerabilities found." : "No vulnerability matches the filter."}</p> : null}
        </>
      ) : null}
    </>
  );
}

function BuildHistory(props: Shown) {
  const api = artifactApi(props.target, props.artifact.digest);
  const result = useApi(() => getJson<BuildStep[]>(`${api}/additions/build_history`), api);
  if (result.state === "error") return <ErrorMessage error={result.error} />;
  const steps = result.state === "ok" ? result.value : [];
  return (
    <>
      <div class="table-scroll">
        <table aria-busy={result.state === "loading"}>
          <caption class="visually-hidden">Build history</caption>
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Command</th>
            </tr>
          </thead>
          <tbody>
            {steps.map((step, i) => (
              <tr key={i}>
                <td>{formatDate(step.created)}</td>
                <td class="command">
                  <code>{step.created_by ?? step.comment ?? ""}</code>
                  {step.empty_layer ? <span class="muted"> (no layer)</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {result.state === "ok" && steps.length === 0 ? <p class="empty">The image config records no build history.</p> : null}
    </>
  );
}

function ManifestView(props: Shown) {
  return <pre class="json">{JSON.stringify(props.manifest, null, 2)}</pre>;
}

const SECTIONS = [
  { key: "overview", label: "Overview", page: Overview, images: false },
  { key: "vulnerabilities", label: "Vulnerabilities", page: Vulnerabilities, images: false },
  { key: "build-history", label: "Build History", page: BuildHistory, images: true },
  { key: "manifest", label: "Manifest", page: ManifestView, images: false },
];

/**
 * One artifact: its overview (digest, tags, config, layers or child manifests, referrers), vulnerabilities with the
 * Scan action, build history and manifest, each section at its own address (`?tab=`).
 */
export function Artifact(props: { project: string; repository: string; digest: string }) {
  const target: RepositoryRef = { project: props.project, repository: props.repository };
  const [changes, setChanges] = useState(0);
  const result = useApi(() => loadArtifact(target, props.digest), `${props.project}\n${props.repository}\n${props.digest}\n${changes}`);
  const { query } = useLocation();
  if (result.state === "error") return <ErrorMessage error={result.error} />;
  if (result.state === "loading") return <p aria-busy="true">Loading…</p>;
  const { project, artifact } = result.value;
  const sections = SECTIONS.filter((section) => !section.images || artifact.type === "IMAGE");
  const current = sections.find((section) => section.key === (query.get("tab") ?? "overview")) ?? sections[0];
  const base = artifactPage(target, artifact.digest);
  const href = (key: string) => (key === "overview" ? base : `${base}?tab=${key}`);
  const Section = current.page;
  return (
    <section aria-labelledby="artifact-title">
      <p class="breadcrumb">
        <Link href="/projects">Projects</Link> / <Link href={`/projects/${encodeURIComponent(project.name)}/repositories`}>{project.name}</Link> /{" "}
        <Link href={repositoryPage(target)}>{props.repository}</Link> /
      </p>
      <h1 id="artifact-title">
        <code>{shortDigest(artifact.digest)}</code>
      </h1>
      <Tabs label="Artifact sections" tabs={sections.map((section) => ({ label: section.label, href: href(section.key) }))} current={href(current.key)} />
      <Section {...result.value} target={target} reload={() => setChanges((n) => n + 1)} />
    </section>
  );
}
