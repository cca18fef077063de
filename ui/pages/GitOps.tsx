import { getJson } from "../api/client";
import type { GitOpsRun, GitOpsStatus, GitOpsWatcher, ManagedObject } from "../api/types";
import { CopyButton } from "../components/CopyButton";
import { ErrorMessage } from "../components/ErrorMessage";
import { formatDate } from "../lib/format";
import { Link } from "../lib/router";
import { useSession } from "../lib/session-context";
import { useApi } from "../lib/use-api";

/** A commit as people quote it: the first 8 hex digits (a directory's content hash keeps its "content:" prefix). */
const shortCommit = (commit: string) => (/^[0-9a-f]{40,64}$/.test(commit) ? commit.slice(0, 8) : commit);

const TRIGGERS: Record<string, string> = { commit: "New commit", schedule: "Drift run", manual: "Manual apply" };
const RESULTS: Record<string, string> = { success: "Applied", "no-op": "No changes", failed: "Failed", drift: "Drift found" };

/** The kinds in the order the controller applies them, with the words Harbor's portal uses. */
const KINDS: Record<string, string> = {
  registry: "Registries",
  project: "Projects",
  label: "Labels",
  user: "Users",
  member: "Members",
  robot: "Robot accounts",
  immutability: "Tag immutability",
  retention: "Tag retention",
  replication: "Replication rules",
};

function DriftMode(props: { mode: string | null; suspended: boolean }) {
  if (props.suspended) return <>Nothing is corrected while the controller is suspended.</>;
  switch (props.mode) {
    case "correct":
      return <>correct: drift runs revert changes made by hand to managed objects</>;
    case "warn":
      return <>warn: drift runs report changes made by hand and leave them</>;
    case "off":
      return <>off: no drift runs</>;
    default:
      return <span class="muted">not known before the controller's first run</span>;
  }
}

function Commit(props: { commit: string }) {
  if (!props.commit) return <span class="muted">—</span>;
  return (
    <code class="commit" title={props.commit}>
      {shortCommit(props.commit)}
    </code>
  );
}

/** What a run did: the changes it applied (for a drift run: corrected), what it only found, and what failed. */
function RunDetails(props: { run: GitOpsRun }) {
  const { applied, drifted, failures } = props.run;
  if (applied.length + drifted.length + failures.length === 0) return <span class="muted">—</span>;
  return (
    <ul class="run-details">
      {applied.map((change) => (
        <li>{change}</li>
      ))}
      {drifted.map((change) => (
        <li>
          <span class="run-drifted">drifted</span> {change}
        </li>
      ))}
      {failures.map((failure) => (
        <li class="run-failure">{failure}</li>
      ))}
    </ul>
  );
}

function Result(props: { result: string }) {
  return <span class={`run-result run-${props.result}`}>{RESULTS[props.result] ?? props.result}</span>;
}

function Overview(props: { status: GitOpsStatus }) {
  const { source, last_applied: applied, last_drift_run: drift } = props.status;
  return (
    <dl class="facts gitops-facts">
      <dt>Source</dt>
      <dd>{source ? source.repo : <span class="muted">none: no controller has applied to this registry</span>}</dd>
      {source ? (
        <>
          <dt>Branch</dt>
          <dd>{source.branch || <span class="muted">— (a directory, not a git branch)</span>}</dd>
          <dt>Directory</dt>
          <dd>{source.dir || <span class="muted">the repository's root</span>}</dd>
          <dt>Managing since</dt>
          <dd>
            {formatDate(source.claimed_at)}, claimed by <span class="muted">{source.claimed_by}</span>
          </dd>
        </>
      ) : null}
      <dt>Last applied commit</dt>
      <dd>
        {applied ? (
          <span class="commit-line">
            <Commit commit={applied.commit} /> <CopyButton text={applied.commit} label="commit id" /> by {applied.author || "an unknown author"}, applied{" "}
            {formatDate(applied.applied_at)}
          </span>
        ) : (
          <span class="muted">none yet</span>
        )}
      </dd>
      <dt>Last drift run</dt>
      <dd>
        {drift ? (
          <>
            {formatDate(drift.finished_at)}: <Result result={drift.result} />
            {drift.result === "success" ? `, corrected ${drift.applied.length}` : ""}
            <RunDetails run={drift} />
          </>
        ) : (
          <span class="muted">none yet</span>
        )}
      </dd>
      <dt>Suspended</dt>
      <dd>{props.status.suspended ? `Yes${props.status.suspend_reason ? `: ${props.status.suspend_reason}` : " (no reason given)"}` : "No"}</dd>
      <dt>Drift mode</dt>
      <dd>
        <DriftMode mode={props.status.drift_mode} suspended={props.status.suspended} />
      </dd>
    </dl>
  );
}

function Runs(props: { runs: GitOpsRun[] }) {
  if (props.runs.length === 0) return <p class="empty">The controller has not run yet.</p>;
  return (
    <div class="table-scroll">
      <table class="gitops-table">
        <caption class="visually-hidden">Recent controller runs</caption>
        <thead>
          <tr>
            <th scope="col">Finished</th>
            <th scope="col">Trigger</th>
            <th scope="col">Commit</th>
            <th scope="col">Author</th>
            <th scope="col">Result</th>
            <th scope="col" class="numeric">
              Changes
            </th>
            <th scope="col">Applied changes and failures</th>
          </tr>
        </thead>
        <tbody>
          {props.runs.map((run) => (
            <tr key={run.id}>
              <td>{formatDate(run.finished_at)}</td>
              <td>{TRIGGERS[run.trigger] ?? run.trigger}</td>
              <td>
                <Commit commit={run.commit} />
              </td>
              <td class="wrap">{run.author || <span class="muted">—</span>}</td>
              <td>
                <Result result={run.result} />
              </td>
              <td class="numeric">{run.changes}</td>
              <td class="wrap">
                <RunDetails run={run} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Watchers(props: { watchers: GitOpsWatcher[] }) {
  if (props.watchers.length === 0) return <p class="empty">No controller watches the source (applies were made with berth-controller apply).</p>;
  return (
    <div class="table-scroll">
      <table class="gitops-table">
        <caption class="visually-hidden">Watchers</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Ready</th>
            <th scope="col">Seen commit</th>
            <th scope="col">Applied commit</th>
            <th scope="col">Last result</th>
            <th scope="col">Last error</th>
            <th scope="col">Reported</th>
          </tr>
        </thead>
        <tbody>
          {props.watchers.map((watcher) => (
            <tr key={watcher.name}>
              <td class="wrap">{watcher.name}</td>
              <td>{watcher.ready ? "Yes" : "No"}</td>
              <td>{watcher.revision ? <Commit commit={watcher.revision} /> : <span class="muted">—</span>}</td>
              <td>{watcher.applied_revision ? <Commit commit={watcher.applied_revision} /> : <span class="muted">—</span>}</td>
              <td>{watcher.last_result ? <Result result={watcher.last_result} /> : <span class="muted">—</span>}</td>
              <td class="wrap">{watcher.last_error ? <span class="run-failure">{watcher.last_error}</span> : <span class="muted">—</span>}</td>
              <td>{formatDate(watcher.updated_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A managed object's name, linked to its page where the UI has one. */
function ObjectName(props: { object: ManagedObject }) {
  const { kind, key } = props.object;
  if (kind === "project") return <Link href={`/projects/${encodeURIComponent(key)}`}>{key}</Link>;
  return <>{key}</>;
}

function Managed(props: { objects: ManagedObject[] }) {
  if (props.objects.length === 0) return <p class="empty">The controller manages no objects.</p>;
  const kinds = [...new Set(props.objects.map((o) => o.kind))].sort(
    (a, b) => (Object.keys(KINDS).indexOf(a) + 1 || 99) - (Object.keys(KINDS).indexOf(b) + 1 || 99),
  );
  return (
    <>
      {kinds.map((kind) => {
        const objects = props.objects.filter((o) => o.kind === kind);
        return (
          <section class="managed-kind" aria-labelledby={`managed-${kind}`} key={kind}>
            <h3 id={`managed-${kind}`}>
              {KINDS[kind] ?? kind} ({objects.length})
            </h3>
            <div class="table-scroll">
              <table class="managed-table">
                <caption class="visually-hidden">Managed {KINDS[kind] ?? kind}</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Declared in</th>
                    <th scope="col">How</th>
                    <th scope="col">Managed since</th>
                  </tr>
                </thead>
                <tbody>
                  {objects.map((object) => (
                    <tr key={object.key}>
                      <td>
                        <ObjectName object={object} />
                      </td>
                      <td>
                        <span class="badge">managed by policy ({object.file})</span>
                      </td>
                      <td>{object.adopted ? "Adopted (existed before)" : "Created by the controller"}</td>
                      <td>{formatDate(object.since)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        );
      })}
    </>
  );
}

async function loadGitOps() {
  const [status, managed] = await Promise.all([getJson<GitOpsStatus>("/api/v2.0/gitops/status"), getJson<ManagedObject[]>("/api/v2.0/gitops/managed")]);
  return { status, managed };
}

function AdminView() {
  const result = useApi(loadGitOps, "gitops");
  if (result.state === "error") return <ErrorMessage error={result.error} />;
  if (result.state === "loading") return <p aria-busy="true">Loading…</p>;
  const { status, managed } = result.value;
  return (
    <>
      <Overview status={status} />
      <section class="gitops-part" aria-labelledby="gitops-runs">
        <h2 id="gitops-runs">Recent runs</h2>
        <p class="help">The controller's latest runs, newest first: what each applied (a drift run: corrected) and what failed.</p>
        <Runs runs={status.runs} />
      </section>
      <section class="gitops-part" aria-labelledby="gitops-watchers">
        <h2 id="gitops-watchers">Watchers</h2>
        <Watchers watchers={status.watchers} />
      </section>
      <section class="gitops-part" aria-labelledby="gitops-managed">
        <h2 id="gitops-managed">Managed objects</h2>
        <Managed objects={managed} />
      </section>
    </>
  );
}

/**
 * The GitOps controller as the registry knows it: for system administrators the source it follows, the last applied
 * commit, drift runs, suspension, recent runs, watchers and managed objects; others learn what the section is and
 * where they meet it (the badge on managed objects), without a request the server would refuse.
 */
export function GitOps() {
  const session = useSession();
  return (
    <section aria-labelledby="gitops-title">
      <h1 id="gitops-title">GitOps</h1>
      {session.user.sysadmin_flag ? (
        <AdminView />
      ) : (
        <div class="gitops-about">
          <p>
            Projects, members and robot accounts of this registry can be declared in a git repository (projects.yaml and members.yaml) and applied by
            Berth's GitOps controller.
          </p>
          <p>
            The controller's status is shown to system administrators only. Where you meet it: an object the controller manages carries the badge
            "managed by policy" on its project's page. Change such objects in the git repository, not here: a change made by hand may be reverted by the
            controller.
          </p>
        </div>
      )}
    </section>
  );
}
