import { useEffect, useState } from "preact/hooks";
import { getJson, getPage, send } from "../api/client";
import type { Permission, Project, RetentionDecisions, RetentionExecution, RetentionMetadata, RetentionPolicy, RetentionRule, RetentionTask } from "../api/types";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Dialog } from "../components/Dialog";
import { ErrorMessage } from "../components/ErrorMessage";
import { FormFooter } from "../components/FormFooter";
import { useAction } from "../lib/use-action";
import { ManagedBadge } from "../components/ManagedBadge";
import { cronOf, ScheduleFields, scheduleTypeOf } from "../components/ScheduleFields";
import { PAGE_SIZE, PagedTable, type Column } from "../components/PagedTable";
import { formatDate } from "../lib/format";
import { can } from "../lib/permissions";
import { useApi } from "../lib/use-api";
import { managedObject, useProjectGitOps } from "../lib/use-project-gitops";

const API = "/api/v2.0/retentions";
/** The server's limit (registry/retention/policy.ts MAX_RULES), as Harbor's portal stops offering "Add rule". */
const MAX_RULES = 15;
/** How often a run just started is asked about until it ends. */
const POLL_MS = 1500;

type Templates = RetentionMetadata["templates"];

const selectorText = (decoration: string, pattern: string) => `${decoration.toLowerCase().includes("exclude") ? "excluding" : "matching"} ${pattern}`;

function untagged(rule: RetentionRule): boolean {
  const extras = rule.tag_selectors[0]?.extras;
  try {
    return extras ? (JSON.parse(extras) as { untagged?: boolean }).untagged === true : false;
  } catch {
    return false;
  }
}

/** Harbor's sentence for a rule: "For the repositories matching **, retain the most recently pushed 1 artifacts…". */
function ruleText(rule: RetentionRule, templates: Templates): string {
  const template = templates.find((t) => t.rule_template === rule.template);
  const what = template ? template.display_text.replace("#", String(rule.params[rule.template] ?? "")) : rule.template;
  const repositories = rule.scope_selectors.repository.map((s) => selectorText(s.decoration, s.pattern)).join(", ");
  const tags = rule.tag_selectors.map((s) => selectorText(s.decoration, s.pattern)).join(", ");
  return `For the repositories ${repositories}, retain ${what} with tags ${tags}, ${untagged(rule) ? "including" : "excluding"} untagged artifacts`;
}

/** The id at the end of a Location header (/api/v2.0/retentions/3 → "3"). */
const idOf = (response: Response) => (response.headers.get("Location") ?? "").split("/").pop() ?? "";

function RuleDialog(props: { rule: RetentionRule | null; templates: Templates; save: (rule: RetentionRule) => Promise<void>; onClose: () => void }) {
  const existing = props.rule;
  const [template, setTemplate] = useState(existing?.template ?? props.templates[0]?.rule_template ?? "latestPushedK");
  const submit = useAction();
  const unit = props.templates.find((t) => t.rule_template === template)?.params[0]?.unit;
  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const field = (name: string) => String(form.get(name) ?? "");
    const rule: RetentionRule = {
      disabled: form.get("disabled") === "on",
      action: "retain",
      template,
      params: unit ? { [template]: Number(field("param")) } : {},
      scope_selectors: { repository: [{ kind: "doublestar", decoration: field("repo_decoration"), pattern: field("repo_pattern") }] },
      tag_selectors: [{ kind: "doublestar", decoration: field("tag_decoration"), pattern: field("tag_pattern"), extras: JSON.stringify({ untagged: form.get("untagged") === "on" }) }],
    };
    await submit.run(() => props.save(rule));
  };
  return (
    <Dialog title={existing ? "Edit retention rule" : "Add retention rule"} onClose={props.onClose}>
      <form onSubmit={onSubmit}>
        <SelectorField label="Repositories" name="repo" decorations={["repoMatches", "repoExcludes"]} selector={existing?.scope_selectors.repository[0]} />
        <p class="help">Patterns with * and ** (doublestar), several as {"{a,b}"}.</p>
        <label for="rule-template">Retain</label>
        <select id="rule-template" name="template" value={template} onChange={(event) => setTemplate((event.currentTarget as HTMLSelectElement).value)}>
          {props.templates.map((t) => (
            <option value={t.rule_template}>{t.display_text}</option>
          ))}
        </select>
        {unit ? (
          <>
            <label for="rule-param">{unit === "DAYS" ? "Days" : "Count"}</label>
            <input id="rule-param" name="param" type="number" min={0} required value={existing?.template === template ? existing.params[template] : 1} />
          </>
        ) : null}
        <SelectorField label="Tags" name="tag" decorations={["matches", "excludes"]} selector={existing?.tag_selectors[0]} />
        <label class="checkbox">
          <input type="checkbox" name="untagged" checked={existing ? untagged(existing) : true} /> Include untagged artifacts
        </label>
        <label class="checkbox">
          <input type="checkbox" name="disabled" checked={existing?.disabled ?? false} /> Rule disabled
        </label>
        <FormFooter error={submit.error} busy={submit.busy} submit="Save" onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

/** A selector's decoration (matching or excluding) and its doublestar pattern, e.g. for "Repositories". */
function SelectorField(props: { label: string; name: string; decorations: [string, string]; selector: RetentionRule["tag_selectors"][number] | undefined }) {
  const [matching, excluding] = props.decorations;
  return (
    <>
      <label for={`rule-${props.name}-decoration`}>{props.label}</label>
      <div class="field-pair">
        <select id={`rule-${props.name}-decoration`} name={`${props.name}_decoration`} value={props.selector?.decoration ?? matching}>
          <option value={matching}>matching</option>
          <option value={excluding}>excluding</option>
        </select>
        <input name={`${props.name}_pattern`} aria-label={`${props.label} pattern`} required value={props.selector?.pattern ?? "**"} />
      </div>
    </>
  );
}

const shortDigest = (digest: string) => (digest.length > 19 ? `${digest.slice(0, 19)}…` : digest);

/** One repository's decision table: every artifact in scope, whether it is retained, and the reason. */
function TaskDecisions(props: { base: string; task: RetentionTask }) {
  const { task } = props;
  const result = useApi(() => getJson<RetentionDecisions>(`${props.base}/tasks/${task.id}`), `${props.base}/${task.id}`);
  const headingId = `decisions-${task.id}`;
  return (
    <section class="decisions" aria-labelledby={headingId}>
      <h4 id={headingId}>
        {task.repository} <span class="muted">— {task.status}, retained {task.retained} of {task.total}</span>
      </h4>
      {result.state === "error" ? <ErrorMessage error={result.error} /> : null}
      {result.state === "loading" ? <p aria-busy="true">Loading…</p> : null}
      {result.state === "ok" ? (
        <div class="table-scroll">
          <table>
            <caption class="visually-hidden">Retention decisions for {task.repository}</caption>
            <thead>
              <tr>
                <th scope="col">Digest</th>
                <th scope="col">Tags</th>
                <th scope="col">Pushed</th>
                <th scope="col">Pulled</th>
                <th scope="col">Retention</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {result.value.decisions.map((row) => (
                <tr key={row.digest}>
                  <td>
                    <code title={row.digest}>{shortDigest(row.digest)}</code>
                  </td>
                  <td>{row.tags.join(", ") || <span class="muted">untagged</span>}</td>
                  <td>{formatDate(row.pushed_time)}</td>
                  <td>{formatDate(row.pulled_time)}</td>
                  <td>
                    <span class={row.retention.startsWith("DEL") ? "verdict verdict-delete" : "verdict verdict-retain"}>{row.retention}</span>
                  </td>
                  <td class="wrap">{row.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

/** A run's per-repository tasks, each with its decision table. */
function RunDetails(props: { policyId: string; run: RetentionExecution; onClose: () => void }) {
  const base = `${API}/${props.policyId}/executions/${props.run.id}`;
  const tasks = useApi(() => getJson<RetentionTask[]>(`${base}/tasks`), base);
  return (
    <section class="run-details" aria-labelledby="run-details-title">
      <div class="page-head">
        <h3 id="run-details-title">
          Run {props.run.id}
          {props.run.dry_run ? " (dry run)" : ""}: {props.run.status}
        </h3>
        <button type="button" onClick={props.onClose}>
          Close run {props.run.id}
        </button>
      </div>
      {props.run.status_message ? <p class="muted">{props.run.status_message}</p> : null}
      {tasks.state === "error" ? <ErrorMessage error={tasks.error} /> : null}
      {tasks.state === "loading" ? <p aria-busy="true">Loading…</p> : null}
      {tasks.state === "ok" && tasks.value.length === 0 ? <p class="empty">No repository was in scope of this run.</p> : null}
      {tasks.state === "ok" ? tasks.value.map((task) => <TaskDecisions key={task.id} base={base} task={task} />) : null}
    </section>
  );
}

/** When the policy runs by itself (Harbor's schedule types or a cron); shown read-only to those who may not change it. */
function RetentionSchedule(props: { cron: string; mayEdit: boolean; save: (cron: string) => Promise<void> }) {
  const submit = useAction();
  const current = props.cron ? `${scheduleTypeOf(props.cron)} (${props.cron})` : "None";
  if (!props.mayEdit) return <p>Schedule: {current}</p>;
  const onSubmit = (event: SubmitEvent) => {
    event.preventDefault();
    const cron = cronOf(new FormData(event.currentTarget as HTMLFormElement));
    void submit.run(() => props.save(cron));
  };
  return (
    <form class="schedule" onSubmit={onSubmit} key={props.cron}>
      <ScheduleFields id="retention-schedule" label="Schedule" cron={props.cron} />
      <p class="help">Current schedule: {current}.</p>
      <ErrorMessage error={submit.error} />
      <div class="toolbar">
        <button type="submit" disabled={submit.busy}>
          Save schedule
        </button>
      </div>
    </form>
  );
}

type Editing = { kind: "rule"; index: number | null } | { kind: "delete"; index: number } | { kind: "run" } | null;

/** A project's tag retention: its rules (Harbor's templates), dry runs and runs, and each run's decisions per repository. */
export function ProjectRetention(props: { project: Project; permissions: Permission[] }) {
  const { project, permissions } = props;
  const [policyId, setPolicyId] = useState(project.metadata.retention_id ?? "");
  const [changed, setChanged] = useState(0);
  const [runs, setRuns] = useState(0);
  const [editing, setEditing] = useState<Editing>(null);
  const [watching, setWatching] = useState<number | null>(null);
  const [openRun, setOpenRun] = useState<RetentionExecution | null>(null);
  const [runError, setRunError] = useState<Error | null>(null);
  const gitops = useProjectGitOps(project.name);
  const loaded = useApi(
    () => Promise.all([getJson<RetentionMetadata>(`${API}/metadatas`), policyId ? getJson<RetentionPolicy>(`${API}/${policyId}`) : Promise.resolve(null)]),
    `${policyId}\n${changed}`,
  );

  // A run just started: ask until it has ended, then show the runs again (its final status).
  useEffect(() => {
    if (watching === null) return;
    const timer = setInterval(() => {
      void getPage<RetentionExecution>(`${API}/${policyId}/executions`, 1, PAGE_SIZE).then(
        ({ items }) => {
          const run = items.find((item) => item.id === watching);
          if (run && run.status === "Running") return;
          setWatching(null);
          setRuns((n) => n + 1);
        },
        (error: Error) => {
          setWatching(null);
          setRunError(error);
        },
      );
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [watching, policyId]);

  if (loaded.state === "error") return <ErrorMessage error={loaded.error} />;
  if (loaded.state === "loading") return <p aria-busy="true">Loading…</p>;
  const [{ templates }, policy] = loaded.value;
  const rules = policy?.rules ?? [];
  const mayEdit = policy ? can(permissions, "tag-retention", "update") : can(permissions, "tag-retention", "create");
  const mayRun = policy !== null && can(permissions, "tag-retention", "update");

  /** Stores `next` as the project's rules (and a schedule): PUT on the policy, or POST creating it with its first rule. */
  const saveRules = async (next: RetentionRule[], cron = policy?.trigger.settings.cron ?? "") => {
    const body = {
      algorithm: "or",
      rules: next,
      trigger: { kind: "Schedule", settings: { cron }, references: {} },
      scope: { level: "project", ref: project.project_id },
    };
    if (policy) await send(`${API}/${policy.id}`, "PUT", body);
    else setPolicyId(idOf(await send(API, "POST", body)));
    setEditing(null);
    setChanged((n) => n + 1);
  };

  const run = async (dryRun: boolean) => {
    setRunError(null);
    const response = await send(`${API}/${policyId}/executions`, "POST", { dry_run: dryRun });
    setWatching(Number(idOf(response)));
    setRuns((n) => n + 1);
  };

  const columns: Column<RetentionExecution>[] = [
    { header: "ID", numeric: true, cell: (r) => r.id },
    { header: "Status", cell: (r) => r.status },
    { header: "Dry run", cell: (r) => (r.dry_run ? "Yes" : "No") },
    { header: "Trigger", cell: (r) => r.trigger },
    { header: "Start time", cell: (r) => formatDate(r.start_time) },
    { header: "End time", cell: (r) => formatDate(r.end_time) },
    {
      header: "Details",
      cell: (r) => (
        <button type="button" class="small" onClick={() => setOpenRun(r)} aria-label={`Decisions of run ${r.id}`}>
          Decisions
        </button>
      ),
    },
  ];

  return (
    <div class="retention">
      <div class="page-head">
        <h2>Retention rules</h2>
        <ManagedBadge object={managedObject(gitops, "retention", project.name)} gitops={gitops} detailed />
      </div>
      {rules.length === 0 ? <p class="empty">No retention rule: every artifact is kept.</p> : null}
      <ol class="rules">
        {rules.map((rule, index) => (
          <li key={index}>
            <span class={rule.disabled ? "muted" : undefined}>
              {ruleText(rule, templates)}
              {rule.disabled ? " (disabled)" : ""}
            </span>
            {mayEdit ? (
              <span class="row-actions">
                <button type="button" class="small" onClick={() => setEditing({ kind: "rule", index })} aria-label={`Edit rule ${index + 1}`}>
                  Edit
                </button>
                <button type="button" class="small" onClick={() => setEditing({ kind: "delete", index })} aria-label={`Delete rule ${index + 1}`}>
                  Delete
                </button>
              </span>
            ) : null}
          </li>
        ))}
      </ol>
      <div class="toolbar">
        {mayEdit && rules.length < MAX_RULES ? (
          <button type="button" onClick={() => setEditing({ kind: "rule", index: null })}>
            Add rule
          </button>
        ) : null}
        {mayRun ? (
          <>
            <button type="button" class="primary" disabled={rules.length === 0 || watching !== null} onClick={() => void run(true).catch(setRunError)}>
              Dry run
            </button>
            <button type="button" disabled={rules.length === 0 || watching !== null} onClick={() => setEditing({ kind: "run" })}>
              Run now
            </button>
          </>
        ) : null}
        {watching !== null ? <span aria-live="polite">Run {watching} is running…</span> : null}
      </div>
      <ErrorMessage error={runError} />
      {policy ? <RetentionSchedule cron={policy.trigger.settings.cron} mayEdit={mayEdit} save={(cron) => saveRules(rules, cron)} /> : null}

      <h2 class="section-title">Retention runs</h2>
      {policyId ? (
        <PagedTable<RetentionExecution>
          caption="Retention runs"
          columns={columns}
          load={(page, size) => getPage<RetentionExecution>(`${API}/${policyId}/executions`, page, size)}
          rowKey={(r) => r.id}
          reloadKey={`${policyId}\n${runs}`}
          empty="No runs yet."
        />
      ) : (
        <p class="empty">No runs yet.</p>
      )}
      {openRun ? <RunDetails key={openRun.id} policyId={policyId} run={openRun} onClose={() => setOpenRun(null)} /> : null}

      {editing?.kind === "rule" ? (
        <RuleDialog
          rule={editing.index === null ? null : rules[editing.index]}
          templates={templates}
          onClose={() => setEditing(null)}
          save={(rule) => saveRules(editing.index === null ? [...rules, rule] : rules.map((r, i) => (i === editing.index ? rule : r)))}
        />
      ) : null}
      {editing?.kind === "delete" ? (
        <ConfirmDialog
          title="Delete retention rule"
          message={`Delete rule ${editing.index + 1}: "${ruleText(rules[editing.index], templates)}"?`}
          confirm="Delete"
          action={() => saveRules(rules.filter((_, i) => i !== editing.index))}
          onClose={() => setEditing(null)}
          onDone={() => setEditing(null)}
        />
      ) : null}
      {editing?.kind === "run" ? (
        <ConfirmDialog
          title="Run retention now"
          message="Artifacts no rule retains will be deleted now. Run a dry run first to see what would be deleted."
          confirm="Run now"
          action={() => run(false)}
          onClose={() => setEditing(null)}
          onDone={() => setEditing(null)}
        />
      ) : null}
    </div>
  );
}
