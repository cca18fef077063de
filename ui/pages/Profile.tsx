import { useState } from "preact/hooks";
import { getJson, send } from "../api/client";
import type { CurrentUser, CurrentUserGroup } from "../api/types";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { CopyButton } from "../components/CopyButton";
import { ErrorMessage } from "../components/ErrorMessage";
import { formatDate } from "../lib/format";
import { useSession } from "../lib/session-context";
import { useAction } from "../lib/use-action";
import { useApi } from "../lib/use-api";

const GROUP_TYPES: Record<number, string> = { 1: "LDAP", 2: "HTTP", 3: "OIDC" };

/** The groups the identity source gave at sign-in (they grant their project roles for this session). */
function Groups() {
  const groups = useApi(() => getJson<CurrentUserGroup[]>("/api/v2.0/users/current/groups"), "groups");
  if (groups.state === "error") return <ErrorMessage error={groups.error} />;
  if (groups.state === "loading") return <span aria-busy="true">Loading…</span>;
  if (groups.value.length === 0) return <span class="muted">None reported at sign-in</span>;
  return (
    <ul class="group-list">
      {groups.value.map((group) => (
        <li>
          {group.group_name} <span class="muted">({GROUP_TYPES[group.group_type] ?? group.group_type}{group.group_type === 1 && group.ldap_group_dn !== group.group_name ? `: ${group.ldap_group_dn}` : ""})</span>
        </li>
      ))}
    </ul>
  );
}

/**
 * A freshly generated CLI secret: shown this once (it lives in this component's props only, never in storage or a
 * URL; the server keeps only its hash) with a copy button and how podman logs in with it.
 */
function ShownSecret(props: { username: string; secret: string; onDone: () => void }) {
  const login = `podman login --username ${props.username} ${location.host}`;
  return (
    <section class="secret-shown" aria-label="New CLI secret">
      <p class="managed-warning" role="note">
        Copy the CLI secret now: it will not be shown again. If it is lost, generate a new one.
      </p>
      <label for="cli-secret-shown">CLI secret</label>
      <div class="copy-row">
        <input id="cli-secret-shown" readOnly value={props.secret} autoComplete="off" spellcheck={false} />
        <CopyButton text={props.secret} label="the CLI secret" />
      </div>
      <p class="field-title" id="cli-login-title">
        Log in from the command line (paste the CLI secret as the password)
      </p>
      <div class="copy-row">
        <pre class="command" aria-labelledby="cli-login-title">
          {login}
        </pre>
        <CopyButton text={login} label="the login command" />
      </div>
      <div class="actions">
        <button type="button" class="primary" onClick={props.onDone}>
          Done
        </button>
      </div>
    </section>
  );
}

/**
 * The CLI secret of a user signed in through the OIDC provider: podman, docker and skopeo cannot follow a browser
 * sign-in, so they log in with the username and this secret (valid while the provider still knows the user).
 */
function CliSecret(props: { user: CurrentUser; onChanged: () => void }) {
  const { user } = props;
  const created = user.oidc_user_meta?.cli_secret_created ?? null;
  const [secret, setSecret] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const action = useAction(props.onChanged);
  const generate = () =>
    action.run(async () => {
      const answer = (await (await send(`/api/v2.0/users/${user.user_id}/cli_secret`, "POST")).json()) as { secret: string };
      setSecret(answer.secret);
    });
  return (
    <section aria-labelledby="cli-secret-title" class="sub-section">
      <h2 id="cli-secret-title">CLI secret</h2>
      <p class="help">
        Command-line clients (podman, docker, skopeo, helm) log in with your username and this secret instead of a password. It works only while your
        account at the identity provider is active.
      </p>
      <dl class="facts">
        <dt>Created</dt>
        <dd>{created ? formatDate(created) : "Never generated"}</dd>
      </dl>
      <ErrorMessage error={action.error} />
      {secret ? (
        <ShownSecret username={user.username} secret={secret} onDone={() => setSecret(null)} />
      ) : (
        <div class="actions start">
          <button type="button" class="primary" disabled={action.busy} onClick={() => (created ? setConfirming(true) : void generate())}>
            Generate CLI secret
          </button>
        </div>
      )}
      {confirming ? (
        <ConfirmDialog
          title="Generate CLI secret"
          message="Generate a new CLI secret? The current one stops working at once."
          confirm="Generate"
          onClose={() => setConfirming(false)}
          action={async () => {
            setConfirming(false);
            await generate();
          }}
        />
      ) : null}
    </section>
  );
}

/** The signed-in user's own page (from the header's user menu): who they are, their groups, their CLI secret. */
export function Profile() {
  const session = useSession();
  const [version, setVersion] = useState(0);
  const result = useApi(() => getJson<CurrentUser>("/api/v2.0/users/current"), String(version));
  if (result.state === "error") return <ErrorMessage error={result.error} />;
  const user = result.state === "ok" ? result.value : session.user;
  const oidcLinked = user.oidc_user_meta !== undefined;
  // The built-in admin always signs in locally; everyone else where the auth mode says.
  const builtInAdmin = user.username === "admin";
  const source = oidcLinked || (session.authMode === "oidc_auth" && !builtInAdmin) ? "Single sign-on (OIDC)" : session.authMode === "ldap_auth" && !builtInAdmin ? "LDAP directory" : "Local password";
  return (
    <section class="profile" aria-busy={result.state === "loading"}>
      <h1>User profile</h1>
      <dl class="facts">
        <dt>Username</dt>
        <dd>{user.username}</dd>
        <dt>Email</dt>
        <dd>{user.email || "—"}</dd>
        {user.realname ? (
          <>
            <dt>Full name</dt>
            <dd>{user.realname}</dd>
          </>
        ) : null}
        <dt>Signs in with</dt>
        <dd>{source}</dd>
        <dt>Administrator</dt>
        <dd>{user.sysadmin_flag ? "Yes" : "No"}</dd>
        <dt>Groups</dt>
        <dd>
          <Groups />
        </dd>
      </dl>
      {oidcLinked ? (
        <CliSecret user={user} onChanged={() => setVersion((v) => v + 1)} />
      ) : (
        <p class="help">Command-line clients (podman, docker, skopeo) log in with your username and password.</p>
      )}
    </section>
  );
}
