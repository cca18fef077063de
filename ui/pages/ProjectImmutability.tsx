import { useState } from "preact/hooks";
import { getPage, send } from "../api/client";
import type { ImmutableRule, Permission, Project, Selector } from "../api/types";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { FormDialog } from "../components/FormDialog";
import { ListTab } from "../components/ListTab";
import type { Column } from "../components/PagedTable";
import { can } from "../lib/permissions";
import { useAction } from "../lib/use-action";
import { managedObject, useProjectGitOps } from "../lib/use-project-gitops";
import { ManagedBadge } from "../components/ManagedBadge";

/** "matching **" / "excluding v1.*", as Harbor's portal words a selector. */
function phrase(selector: Selector | undefined): string {
  if (!selector) return "—";
  return `${selector.decoration.endsWith("xcludes") ? "excluding" : "matching"} ${selector.pattern}`;
}

/** One selector's two fields: matching or excluding, and the pattern. */
function SelectorFields(props: { id: string; label: string; matches: string; excludes: string; help: string }) {
  return (
    <fieldset class="selector">
      <legend>{props.label}</legend>
      <label for={`${props.id}-decoration`} class="visually-hidden">
        {props.label}: matching or excluding
      </label>
      <select id={`${props.id}-decoration`} name={`${props.id}-decoration`}>
        <option value={props.matches}>matching</option>
        <option value={props.excludes}>excluding</option>
      </select>
      <label for={`${props.id}-pattern`} class="visually-hidden">
        {props.label} pattern
      </label>
      <input id={`${props.id}-pattern`} name={`${props.id}-pattern`} required defaultValue="**" aria-describedby={`${props.id}-help`} />
      <p id={`${props.id}-help`} class="help">
        {props.help}
      </p>
    </fieldset>
  );
}

const selector = (form: FormData, id: string): Selector => ({
  kind: "doublestar",
  decoration: String(form.get(`${id}-decoration`)),
  pattern: String(form.get(`${id}-pattern`) ?? "").trim(),
});

/** Tag immutability: rules that keep matching tags from being overwritten or deleted. */
export function ProjectImmutability(props: { project: Project; permissions: Permission[] }) {
  const { project, permissions } = props;
  const base = `/api/v2.0/projects/${project.project_id}/immutabletagrules`;
  const action = useAction();
  // The controller manages a project's immutability rules as one set (projects.yaml's immutableTags).
  const gitops = useProjectGitOps(project.name);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<ImmutableRule | null>(null);
  const mayUpdate = can(permissions, "immutable-tag", "update");
  const mayDelete = can(permissions, "immutable-tag", "delete");
  const columns: Column<ImmutableRule>[] = [
    { header: "Repositories", cell: (r) => phrase(r.scope_selectors.repository[0]) },
    { header: "Tags", cell: (r) => phrase(r.tag_selectors[0]) },
    { header: "Status", cell: (r) => (r.disabled ? "Disabled" : "Enabled") },
  ];
  if (mayUpdate || mayDelete) {
    columns.push({
      header: "Actions",
      cell: (r) => (
        <span class="row-actions">
          {mayUpdate ? (
            <button type="button" disabled={action.busy} onClick={() => void action.run(() => send(`${base}/${r.id}`, "PUT", { ...r, disabled: !r.disabled }))}>
              {r.disabled ? "Enable" : "Disable"}
            </button>
          ) : null}
          {mayDelete ? (
            <button type="button" class="danger" onClick={() => setDeleting(r)}>
              Delete
            </button>
          ) : null}
        </span>
      ),
    });
  }
  const add = async (form: FormData) => {
    await send(base, "POST", {
      action: "immutable",
      template: "immutable_template",
      disabled: false,
      tag_selectors: [selector(form, "tags")],
      scope_selectors: { repository: [selector(form, "repositories")] },
    });
    setAdding(false);
    action.reload();
  };
  return (
    <ListTab<ImmutableRule>
      label="Tag immutability"
      intro={
        <>
          <ManagedBadge object={managedObject(gitops, "immutability", project.name)} gitops={gitops} detailed />
          <p class="help">Tags that an enabled rule matches cannot be overwritten by a push, nor deleted.</p>
        </>
      }
      create={can(permissions, "immutable-tag", "create") ? { label: "Add rule", onClick: () => setAdding(true) } : null}
      action={action}
      caption={`Immutability rules of ${project.name}`}
      columns={columns}
      load={(page, size) => getPage<ImmutableRule>(base, page, size)}
      rowKey={(r) => r.id}
      empty="No immutability rules."
    >
      {adding ? (
        <FormDialog title="Add tag immutability rule" submitLabel="Add" onSubmit={add} onClose={() => setAdding(false)}>
          <SelectorFields id="repositories" label="For the repositories" matches="repoMatches" excludes="repoExcludes" help="Repository names without the project, e.g. ** or app/*, {a,b}." />
          <SelectorFields id="tags" label="Tags" matches="matches" excludes="excludes" help="e.g. ** or release-*, v{1,2}.*." />
        </FormDialog>
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title="Delete rule"
          message={`Delete the rule for repositories ${phrase(deleting.scope_selectors.repository[0])}, tags ${phrase(deleting.tag_selectors[0])}?`}
          confirm="Delete"
          onClose={() => setDeleting(null)}
          action={async () => {
            await send(`${base}/${deleting.id}`, "DELETE");
            setDeleting(null);
            action.reload();
          }}
        />
      ) : null}
    </ListTab>
  );
}
