import { useState } from "preact/hooks";
import { getPage, send } from "../../api/client";
import type { User } from "../../api/types";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { Dialog } from "../../components/Dialog";
import { FormFooter } from "../../components/FormFooter";
import { useAction } from "../../lib/use-action";
import { ManagedBadge } from "../../components/ManagedBadge";
import { PagedTable, type Column } from "../../components/PagedTable";
import { formatDate } from "../../lib/format";
import { useSession } from "../../lib/session-context";
import { managedObject } from "../../lib/use-project-gitops";
import { useSystemGitOps } from "../../lib/use-system-gitops";
import { AdminFrame } from "./AdminFrame";

/** The account created on first start: Harbor refuses to delete or demote it. */
const BUILT_IN_ADMIN_ID = 1;

function NewUserDialog(props: { onClose: () => void; onCreated: () => void }) {
  const submit = useAction();
  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const field = (name: string) => String(form.get(name) ?? "");
    if (field("password") !== field("confirm")) {
      submit.setError(new Error("The passwords do not match."));
      return;
    }
    await submit.run(async () => {
      await send("/api/v2.0/users", "POST", { username: field("username").trim(), email: field("email").trim(), realname: field("realname"), password: field("password"), comment: field("comment") });
      props.onCreated();
    });
  };
  return (
    <Dialog title="New user" onClose={props.onClose}>
      <form onSubmit={onSubmit}>
        <label for="user-name">Username</label>
        <input id="user-name" name="username" required maxLength={255} autoFocus autoComplete="off" />
        <label for="user-email">Email</label>
        <input id="user-email" name="email" type="email" maxLength={255} />
        <label for="user-realname">First and last name</label>
        <input id="user-realname" name="realname" maxLength={255} />
        <label for="user-password">Password</label>
        <input id="user-password" name="password" type="password" required autoComplete="new-password" aria-describedby="user-password-help" />
        <p id="user-password-help" class="help">
          8 to 128 characters with at least one upper case letter, one lower case letter and one digit.
        </p>
        <label for="user-confirm">Confirm password</label>
        <input id="user-confirm" name="confirm" type="password" required autoComplete="new-password" />
        <label for="user-comment">Comments</label>
        <input id="user-comment" name="comment" maxLength={30} />
        <FormFooter error={submit.error} busy={submit.busy} submit="Create" onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

type Pending = { kind: "admin" | "delete"; user: User } | null;

function Users() {
  const session = useSession();
  const gitops = useSystemGitOps("user");
  const [search, setSearch] = useState("");
  const [changed, setChanged] = useState(0);
  const [creating, setCreating] = useState(false);
  const [pending, setPending] = useState<Pending>(null);
  const done = () => {
    setPending(null);
    setCreating(false);
    setChanged((n) => n + 1);
  };
  const mayTouch = (user: User) => user.user_id !== BUILT_IN_ADMIN_ID && user.user_id !== session.user.user_id;
  const columns: Column<User>[] = [
    {
      header: "Name",
      cell: (u) => (
        <span class="managed">
          {u.username} <ManagedBadge object={managedObject(gitops, "user", u.username)} gitops={gitops} />
        </span>
      ),
    },
    { header: "Administrator", cell: (u) => (u.sysadmin_flag ? "Yes" : "No") },
    { header: "Email", cell: (u) => u.email || <span class="muted">—</span> },
    { header: "Registration time", cell: (u) => formatDate(u.creation_time) },
    {
      header: "Actions",
      cell: (u) =>
        mayTouch(u) ? (
          <span class="row-actions">
            <button type="button" class="small" onClick={() => setPending({ kind: "admin", user: u })}>
              {u.sysadmin_flag ? `Revoke admin from ${u.username}` : `Set ${u.username} as admin`}
            </button>
            <button type="button" class="small" onClick={() => setPending({ kind: "delete", user: u })} aria-label={`Delete ${u.username}`}>
              Delete
            </button>
          </span>
        ) : null,
    },
  ];
  const onSearch = (event: SubmitEvent) => {
    event.preventDefault();
    setSearch(String(new FormData(event.currentTarget as HTMLFormElement).get("q") ?? "").trim());
  };
  const q = search ? `?q=${encodeURIComponent(`username=~${search}`)}` : "";
  return (
    <>
      <div class="page-head">
        <h2>Users</h2>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          New user
        </button>
      </div>
      <form class="search" role="search" onSubmit={onSearch}>
        <label for="user-search">Search users by name</label>
        <input id="user-search" name="q" type="search" />
        <button type="submit">Search</button>
      </form>
      <PagedTable<User>
        caption="Users"
        columns={columns}
        load={(page, size) => getPage<User>(`/api/v2.0/users${q}`, page, size)}
        rowKey={(u) => u.user_id}
        reloadKey={`${search}\n${changed}`}
        empty={search ? `No username contains "${search}".` : "No users."}
      />
      {creating ? <NewUserDialog onClose={() => setCreating(false)} onCreated={done} /> : null}
      {pending?.kind === "admin" ? (
        <ConfirmDialog
          title={pending.user.sysadmin_flag ? "Revoke administrator" : "Set as administrator"}
          message={
            pending.user.sysadmin_flag
              ? `${pending.user.username} will no longer be a system administrator.`
              : `${pending.user.username} will be a system administrator, with every permission in the registry.`
          }
          confirm={pending.user.sysadmin_flag ? "Revoke" : "Set as admin"}
          action={() => send(`/api/v2.0/users/${pending.user.user_id}/sysadmin`, "PUT", { sysadmin_flag: !pending.user.sysadmin_flag })}
          onClose={() => setPending(null)}
          onDone={done}
        />
      ) : null}
      {pending?.kind === "delete" ? (
        <ConfirmDialog
          title="Delete user"
          message={`Delete the user ${pending.user.username}? Their memberships go with them.`}
          confirm="Delete"
          action={() => send(`/api/v2.0/users/${pending.user.user_id}`, "DELETE")}
          onClose={() => setPending(null)}
          onDone={done}
        />
      ) : null}
    </>
  );
}

/** Administration › Users: the registry's accounts, paged and searched by the API; create, set or revoke admin, delete. */
export function AdminUsers() {
  return (
    <AdminFrame page="users">
      <Users />
    </AdminFrame>
  );
}
