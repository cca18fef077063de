import { useState } from "preact/hooks";
import { getPage, send } from "../api/client";
import type { GroupType, Member, Permission, Project, UserGroupSearchResult, UserSearchResult } from "../api/types";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { FormDialog } from "../components/FormDialog";
import { ManagedBadge, ManagedListNote } from "../components/ManagedBadge";
import { ListTab } from "../components/ListTab";
import type { Column } from "../components/PagedTable";
import { can } from "../lib/permissions";
import { useSession } from "../lib/session-context";
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

/** "devs" for "cn=devs,ou=groups,dc=example,dc=org" (escaped commas kept); the DN itself when it has no such value. */
function firstRdnValue(dn: string): string {
  const match = /^[^=,]+=((?:\\.|[^,\\+])+)/.exec(dn);
  return match ? match[1].replace(/\\(.)/g, "$1").trim() || dn : dn;
}

const GROUP_KINDS: { type: GroupType; label: string }[] = [
  { type: 3, label: "OIDC group (by name)" },
  { type: 1, label: "LDAP group (by DN)" },
];

/**
 * The "New group member" dialog: an OIDC group by the name in the provider's groups claim, or an LDAP group by its
 * DN. A group Berth does not know yet is created by naming it (Harbor onboards it so); known names are offered from
 * /usergroups/search as one types.
 */
function AddGroupDialog(props: { base: string; initialType: GroupType; onClose: () => void; onAdded: () => void }) {
  const [type, setType] = useState<GroupType>(props.initialType);
  const [found, setFound] = useState<UserGroupSearchResult[]>([]);
  const search = (name: string) => {
    if (name.trim() === "") return setFound([]);
    getPage<UserGroupSearchResult>(`/api/v2.0/usergroups/search?groupname=${encodeURIComponent(name.trim())}`, 1, 10).then(
      (page) => setFound(page.items),
      () => setFound([]),
    );
  };
  const add = async (form: FormData) => {
    const value = String(form.get("group") ?? "").trim();
    // An LDAP group is named by its DN's first value ("devs" for cn=devs,ou=groups,…), as Harbor names imported groups.
    const group = type === 1 ? { group_type: 1, ldap_group_dn: value, group_name: firstRdnValue(value) } : { group_type: type, group_name: value };
    await send(props.base, "POST", { role_id: Number(form.get("role_id")), member_group: group });
    props.onAdded();
  };
  const ldap = type === 1;
  return (
    <FormDialog title="New group member" submitLabel="OK" onSubmit={add} onClose={props.onClose}>
      <label for="member-group-type">Group type</label>
      <select id="member-group-type" name="group_type" onChange={(event) => setType(Number((event.currentTarget as HTMLSelectElement).value) as GroupType)}>
        {GROUP_KINDS.map((kind) => (
          <option value={kind.type} selected={kind.type === type}>
            {kind.label}
          </option>
        ))}
      </select>
      <label for="member-group">{ldap ? "Group DN" : "Group name"}</label>
      <input
        id="member-group"
        name="group"
        required
        autoFocus
        autoComplete="off"
        placeholder={ldap ? "cn=devs,ou=groups,dc=example,dc=org" : "devs"}
        list={ldap ? undefined : "member-group-candidates"}
        onInput={(event) => (ldap ? undefined : search((event.currentTarget as HTMLInputElement).value))}
      />
      <p class="help">
        {ldap
          ? "The group's distinguished name in the directory: its members get the role when they sign in."
          : "The name as the identity provider's groups claim lists it: its members get the role when they sign in."}
      </p>
      <datalist id="member-group-candidates">
        {found
          .filter((group) => group.group_type === type)
          .map((group) => (
            <option value={group.group_name} />
          ))}
      </datalist>
      <label for="member-group-role">Role</label>
      <RoleSelect id="member-group-role" name="role_id" value={3} />
    </FormDialog>
  );
}

const GROUP_LABELS: Record<number, string> = { 1: "LDAP group", 2: "HTTP group", 3: "OIDC group" };

/** The key the GitOps controller gives a member: `proj/alice`, `proj/group:devs` (OIDC), `proj/ldapGroup:<DN>`. */
function memberKey(project: string, member: Member): string {
  if (member.entity_type === "u") return `${project}/${member.entity_name}`;
  return member.group_type === 1 ? `${project}/ldapGroup:${member.ldap_group_dn ?? member.entity_name}` : `${project}/group:${member.entity_name}`;
}

/**
 * A member key with its LDAP DN compared as the registry compares DNs (case and the spaces around commas aside), since
 * members.yaml keeps the DN as written and the registry stores it tidied.
 */
const comparableKey = (key: string): string => {
  const at = key.indexOf("/ldapGroup:");
  return at < 0 ? key : key.slice(0, at) + key.slice(at).trim().replace(/\s*,\s*/g, ",").toLowerCase();
};

/** The managed-by-policy entry of a member, if members.yaml declares it. */
function managedMember(gitops: Parameters<typeof managedObject>[0], project: string, member: Member) {
  const key = comparableKey(memberKey(project, member));
  return gitops?.objects.find((object) => object.kind === "member" && comparableKey(object.key) === key);
}

/** Project members (users and groups, and their roles), paged by the API; added, changed and removed where the caller may. */
export function ProjectMembers(props: { project: Project; permissions: Permission[] }) {
  const { project, permissions } = props;
  const base = `/api/v2.0/projects/${project.project_id}/members`;
  const gitops = useProjectGitOps(project.name);
  const action = useAction();
  const session = useSession();
  const [adding, setAdding] = useState<"user" | "group" | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);
  const [search, setSearch] = useState("");
  const mayUpdate = can(permissions, "member", "update");
  const mayDelete = can(permissions, "member", "delete");
  const mayCreate = can(permissions, "member", "create");
  const columns: Column<Member>[] = [
    {
      header: "Name",
      cell: (m) => (
        <span class="managed">
          {m.entity_name} <ManagedBadge object={managedMember(gitops, project.name, m)} gitops={gitops} />
          {m.group_type === 1 && m.ldap_group_dn && m.ldap_group_dn !== m.entity_name ? <span class="cell-note">{m.ldap_group_dn}</span> : null}
        </span>
      ),
    },
    { header: "Member type", cell: (m) => (m.entity_type === "g" ? (GROUP_LABELS[m.group_type ?? 0] ?? "Group") : "User") },
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
      create={mayCreate ? { label: "+ User", onClick: () => setAdding("user") } : null}
      action={action}
      toolbar={
        <>
          {mayCreate ? (
            <button type="button" class="primary" onClick={() => setAdding("group")}>
              + Group
            </button>
          ) : null}
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
      {adding === "user" ? (
        <AddMemberDialog
          base={base}
          onClose={() => setAdding(null)}
          onAdded={() => {
            setAdding(null);
            action.reload();
          }}
        />
      ) : null}
      {adding === "group" ? (
        <AddGroupDialog
          base={base}
          initialType={session.authMode === "ldap_auth" ? 1 : 3}
          onClose={() => setAdding(null)}
          onAdded={() => {
            setAdding(null);
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
