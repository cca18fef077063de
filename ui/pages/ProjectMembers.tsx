import { useState } from "preact/hooks";
import { getPage, send } from "../api/client";
import type { Member, Permission, Project, UserSearchResult } from "../api/types";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { FormDialog } from "../components/FormDialog";
import { ManagedBadge, ManagedListNote } from "../components/ManagedBadge";
import { ListTab } from "../components/ListTab";
import type { Column } from "../components/PagedTable";
import { can } from "../lib/permissions";
import { useAction } from "../lib/use-action";
import { managedObject, useProjectGitOps } from "../lib/use-project-gitops";

/** Harbor's project roles, in the order its portal lists them. */
export const ROLES: { id: number; label: string }[] = [
  { id: 1, label: "Project Admin" },
  { id: 4, label: "Maintainer" },
  { id: 2, label: "Developer" },
  { id: 3, label: "Guest" },
  { id: 5, label: "Limited Guest" },
];

const roleLabel = (id: number) => ROLES.find((role) => role.id === id)?.label ?? String(id);

function RoleSelect(props: { id: string; name: string; value: number; disabled?: boolean; label?: string; onChange?: (role: number) => void }) {
  return (
    <select
      id={props.id}
      name={props.name}
      aria-label={props.label}
      disabled={props.disabled}
      onChange={(event) => props.onChange?.(Number((event.currentTarget as HTMLSelectElement).value))}
    >
      {ROLES.map((role) => (
        <option value={role.id} selected={role.id === props.value}>
          {role.label}
        </option>
      ))}
    </select>
  );
}

/** The "New member" dialog: a user found by name (the names offered come from /users/search as one types). */
function AddMemberDialog(props: { base: string; onClose: () => void; onAdded: () => void }) {
  const [found, setFound] = useState<UserSearchResult[]>([]);
  const search = (name: string) => {
    if (name.trim() === "") return setFound([]);
    getPage<UserSearchResult>(`/api/v2.0/users/search?username=${encodeURIComponent(name.trim())}`, 1, 10).then(
      (page) => setFound(page.items),
      () => setFound([]),
    );
  };
  const add = async (form: FormData) => {
    const username = String(form.get("username") ?? "").trim();
    await send(props.base, "POST", { role_id: Number(form.get("role_id")), member_user: { username } });
    props.onAdded();
  };
  return (
    <FormDialog title="New member" submitLabel="OK" onSubmit={add} onClose={props.onClose}>
      <label for="member-username">Name</label>
      <input
        id="member-username"
        name="username"
        required
        autoFocus
        autoComplete="off"
        list="member-candidates"
        onInput={(event) => search((event.currentTarget as HTMLInputElement).value)}
      />
      <datalist id="member-candidates">
        {found.map((user) => (
          <option value={user.username} />
        ))}
      </datalist>
      <label for="member-role">Role</label>
      <RoleSelect id="member-role" name="role_id" value={3} />
    </FormDialog>
  );
}

/** Project members (users and their roles), paged by the API; added, changed and removed where the caller may. */
export function ProjectMembers(props: { project: Project; permissions: Permission[] }) {
  const { project, permissions } = props;
  const base = `/api/v2.0/projects/${project.project_id}/members`;
  const gitops = useProjectGitOps(project.name);
  const action = useAction();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Member | null>(null);
  const [search, setSearch] = useState("");
  const mayUpdate = can(permissions, "member", "update");
  const mayDelete = can(permissions, "member", "delete");
  const columns: Column<Member>[] = [
    {
      header: "Name",
      cell: (m) => (
        <span class="managed">
          {m.entity_name} <ManagedBadge object={managedObject(gitops, "member", `${project.name}/${m.entity_name}`)} gitops={gitops} />
        </span>
      ),
    },
    { header: "Member type", cell: (m) => (m.entity_type === "g" ? "Group" : "User") },
    {
      header: "Role",
      cell: (m) =>
        mayUpdate ? (
          <RoleSelect
            id={`role-${m.id}`}
            name="role_id"
            value={m.role_id}
            label={`Role of ${m.entity_name}`}
            disabled={action.busy}
            onChange={(role) => void action.run(() => send(`${base}/${m.id}`, "PUT", { role_id: role }))}
          />
        ) : (
          roleLabel(m.role_id)
        ),
    },
  ];
  if (mayDelete) {
    columns.push({
      header: "Actions",
      cell: (m) => (
        <button type="button" class="danger" onClick={() => setRemoving(m)} aria-label={`Remove ${m.entity_name}`}>
          Remove
        </button>
      ),
    });
  }
  return (
    <ListTab<Member>
      label="Members"
      intro={<ManagedListNote gitops={gitops} kind="member" what="Members" />}
      create={can(permissions, "member", "create") ? { label: "+ User", onClick: () => setAdding(true) } : null}
      action={action}
      toolbar={
        <>
          <label for="member-filter" class="visually-hidden">
            Filter members by name
          </label>
          <input id="member-filter" type="search" placeholder="Filter by name" value={search} onChange={(e) => setSearch((e.currentTarget as HTMLInputElement).value.trim())} />
        </>
      }
      caption={`Members of ${project.name}`}
      columns={columns}
      load={(page, size) => getPage<Member>(search ? `${base}?entityname=${encodeURIComponent(search)}` : base, page, size)}
      rowKey={(m) => m.id}
      reloadKey={search}
      empty={search ? `No member's name contains "${search}".` : "No members."}
    >
      {adding ? (
        <AddMemberDialog
          base={base}
          onClose={() => setAdding(false)}
          onAdded={() => {
            setAdding(false);
            action.reload();
          }}
        />
      ) : null}
      {removing ? (
        <ConfirmDialog
          title="Remove member"
          message={`Remove ${removing.entity_name} from ${project.name}? They lose the access their role gave them.`}
          confirm="Remove"
          onClose={() => setRemoving(null)}
          action={async () => {
            await send(`${base}/${removing.id}`, "DELETE");
            setRemoving(null);
            action.reload();
          }}
        />
      ) : null}
    </ListTab>
  );
}
