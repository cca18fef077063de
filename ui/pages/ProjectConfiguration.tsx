import { useState } from "preact/hooks";
import { getJson, send } from "../api/client";
import type { Permission, Project, ProjectSummary, ProjectWithAllowlist } from "../api/types";
import { ErrorMessage } from "../components/ErrorMessage";
import { ManagedBadge } from "../components/ManagedBadge";
import { formatBytes } from "../lib/format";
import { can } from "../lib/permissions";
import { useApi } from "../lib/use-api";
import { managedObject, useProjectGitOps } from "../lib/use-project-gitops";

const SEVERITIES = ["none", "low", "medium", "high", "critical"];

const flag = (form: FormData, name: string) => (form.get(name) === "on" ? "true" : "false");

/** A date field's value (local midnight) as the unix seconds the API takes, and back. */
const toUnix = (day: string) => Math.floor(new Date(`${day}T00:00:00`).getTime() / 1000);
function toDay(unix: number): string {
  const d = new Date(unix * 1000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** One "true"/"false" metadata key as a checkbox (left to the browser once shown, so a re-render keeps an edit). */
function Flag(props: { meta: Record<string, string>; name: string; label: string }) {
  return (
    <label class="checkbox">
      <input type="checkbox" name={props.name} defaultChecked={props.meta[props.name] === "true"} /> {props.label}
    </label>
  );
}

async function load(id: number) {
  const [project, summary] = await Promise.all([
    getJson<ProjectWithAllowlist>(`/api/v2.0/projects/${id}`),
    getJson<ProjectSummary>(`/api/v2.0/projects/${id}/summary`),
  ]);
  return { project, summary };
}

/** The project's settings (Harbor's Configuration tab): access, vulnerability policy, CVE allowlist; quota read-only. */
export function ProjectConfiguration(props: { project: Project; permissions: Permission[] }) {
  const [version, setVersion] = useState(0);
  const result = useApi(() => load(props.project.project_id), `${props.project.project_id}\n${version}`);
  const gitops = useProjectGitOps(props.project.name);
  const [error, setError] = useState<Error | null>(null);
  const [saved, setSaved] = useState(false);
  const [reuse, setReuse] = useState<boolean | null>(null);
  const [never, setNever] = useState<boolean | null>(null);
  if (result.state === "error") return <ErrorMessage error={result.error} />;
  if (result.state === "loading") return <p aria-busy="true">Loading…</p>;
  const { project, summary } = result.value;
  const meta = project.metadata;
  const allowlist = project.cve_allowlist ?? { items: [], expires_at: null };
  const editable = can(props.permissions, ".", "update");
  const reuseSystem = reuse ?? meta.reuse_sys_cve_allowlist !== "false";
  const neverExpires = never ?? allowlist.expires_at === null;
  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const items = String(form.get("cves") ?? "")
      .split(/[\s,]+/)
      .filter((id) => id !== "")
      .map((cve_id) => ({ cve_id }));
    const expires = String(form.get("expires") ?? "");
    setError(null);
    setSaved(false);
    try {
      await send(`/api/v2.0/projects/${project.project_id}`, "PUT", {
        metadata: {
          public: flag(form, "public"),
          prevent_vul: flag(form, "prevent_vul"),
          severity: String(form.get("severity") ?? "low"),
          auto_scan: flag(form, "auto_scan"),
          auto_sbom_generation: flag(form, "auto_sbom_generation"),
          reuse_sys_cve_allowlist: reuseSystem ? "true" : "false",
        },
        ...(reuseSystem ? {} : { cve_allowlist: { items, expires_at: neverExpires || expires === "" ? null : toUnix(expires) } }),
      });
      setSaved(true);
      setReuse(null);
      setNever(null);
      setVersion((v) => v + 1);
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <section aria-label="Configuration">
      <ManagedBadge object={managedObject(gitops, "project", project.name)} gitops={gitops} detailed />
      <form class="settings" onSubmit={onSubmit}>
        <fieldset disabled={!editable}>
          <legend>Project registry</legend>
          <Flag meta={meta} name="public" label="Public" />
          <p class="help">A public project lets anyone pull its images; pushing always needs a member's role.</p>
        </fieldset>
        <fieldset disabled={!editable}>
          <legend>Deployment security</legend>
          <Flag meta={meta} name="prevent_vul" label="Prevent vulnerable images from running" />
          <label for="config-severity">Prevent images with vulnerability severity of and above</label>
          <select id="config-severity" name="severity">
            {SEVERITIES.map((severity) => (
              <option value={severity} selected={severity === (meta.severity ?? "low")}>
                {severity[0].toUpperCase() + severity.slice(1)}
              </option>
            ))}
          </select>
        </fieldset>
        <fieldset disabled={!editable}>
          <legend>Vulnerability scanning</legend>
          <Flag meta={meta} name="auto_scan" label="Automatically scan images on push" />
          <Flag meta={meta} name="auto_sbom_generation" label="Automatically generate SBOM on push" />
        </fieldset>
        <fieldset disabled={!editable}>
          <legend>CVE allowlist</legend>
          <label class="checkbox">
            <input type="radio" name="allowlist_source" checked={reuseSystem} onChange={() => setReuse(true)} /> System allowlist
          </label>
          <label class="checkbox">
            <input type="radio" name="allowlist_source" checked={!reuseSystem} onChange={() => setReuse(false)} /> Project allowlist
          </label>
          {reuseSystem ? null : (
            <>
              <label for="config-cves">CVE IDs (one per line)</label>
              <textarea id="config-cves" name="cves" rows={4} defaultValue={allowlist.items.map((item) => item.cve_id).join("\n")} />
              <label for="config-expires">Expires on</label>
              <input id="config-expires" name="expires" type="date" disabled={neverExpires} defaultValue={allowlist.expires_at === null ? "" : toDay(allowlist.expires_at)} />
              <label class="checkbox">
                <input type="checkbox" checked={neverExpires} onChange={(e) => setNever((e.currentTarget as HTMLInputElement).checked)} /> Never expires
              </label>
            </>
          )}
        </fieldset>
        <fieldset>
          <legend>Quota</legend>
          {summary.quota ? (
            <p>
              Storage: {formatBytes(summary.quota.used.storage)} of {formatBytes(summary.quota.hard.storage)}
            </p>
          ) : (
            <p class="muted">Not visible to you.</p>
          )}
          <p class="help">Quotas are set by a system administrator.</p>
        </fieldset>
        <ErrorMessage error={error} />
        {saved ? (
          <p role="status" class="saved">
            Saved.
          </p>
        ) : null}
        {editable ? (
          <div class="actions">
            <button type="submit" class="primary">
              Save
            </button>
          </div>
        ) : null}
      </form>
    </section>
  );
}
