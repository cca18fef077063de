import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { getJson, send } from "../../api/client";
import type { CveAllowlist } from "../../api/types";
import { ErrorMessage } from "../../components/ErrorMessage";
import { formatDate } from "../../lib/format";
import { useApi } from "../../lib/use-api";
import { AdminFrame } from "./AdminFrame";

type Configurations = Record<string, { value: unknown; editable: boolean }>;

/** Harbor's key as words: project_creation_restriction → "Project creation restriction". */
const words = (key: string) => key.charAt(0).toUpperCase() + key.slice(1).replace(/_/g, " ");

/** The settings as the API gives them: Berth's come from BERTH_* variables, so none is editable here. */
function Settings() {
  const config = useApi(() => getJson<Configurations>("/api/v2.0/configurations"), "configurations");
  if (config.state === "error") return <ErrorMessage error={config.error} />;
  if (config.state === "loading") return <p aria-busy="true">Loading…</p>;
  return (
    <>
      <dl class="facts">
        {Object.entries(config.value).map(([key, setting]) => (
          <Fragment key={key}>
            <dt>{words(key)}</dt>
            <dd>
              {String(setting.value)} {setting.editable ? null : <span class="muted">(set by the environment)</span>}
            </dd>
          </Fragment>
        ))}
      </dl>
      <p class="help">Settings come from BERTH_* environment variables (see the README); change them there and restart.</p>
    </>
  );
}

/** The system CVE allowlist: ids every project reusing it ignores in scan results, and when the list expires. */
function Allowlist() {
  const [changed, setChanged] = useState(0);
  const [error, setError] = useState<Error | null>(null);
  const [saved, setSaved] = useState(false);
  const list = useApi(() => getJson<CveAllowlist>("/api/v2.0/system/CVEAllowlist"), String(changed));
  if (list.state === "error") return <ErrorMessage error={list.error} />;
  if (list.state === "loading") return <p aria-busy="true">Loading…</p>;
  const expires = list.value.expires_at;
  const onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const ids = String(form.get("items") ?? "").split(/[\s,]+/).filter(Boolean);
    const date = String(form.get("expires") ?? "");
    setError(null);
    setSaved(false);
    try {
      await send("/api/v2.0/system/CVEAllowlist", "PUT", {
        items: ids.map((cve_id) => ({ cve_id })),
        expires_at: form.get("never") === "on" || !date ? null : Math.floor(new Date(`${date}T23:59:59`).getTime() / 1000),
      });
      setSaved(true);
      setChanged((n) => n + 1);
    } catch (caught) {
      setError(caught as Error);
    }
  };
  const expiryDate = expires === null ? "" : new Date(expires * 1000).toISOString().slice(0, 10);
  return (
    <form onSubmit={onSubmit} key={changed}>
      <label for="allowlist-items">CVE ids (one per line)</label>
      <textarea id="allowlist-items" name="items" rows={6} value={list.value.items.map((i) => i.cve_id).join("\n")} />
      <p class="help">
        {list.value.items.length} id(s); {expires === null ? "never expires" : `expires ${formatDate(expires * 1000)}`}.
      </p>
      <label for="allowlist-expires">Expires on</label>
      <input id="allowlist-expires" name="expires" type="date" value={expiryDate} />
      <label class="checkbox">
        <input type="checkbox" name="never" checked={expires === null} /> Never expires
      </label>
      <ErrorMessage error={error} />
      {saved ? (
        <p class="success" role="status">
          Allowlist saved.
        </p>
      ) : null}
      <div class="toolbar">
        <button type="submit">Save allowlist</button>
      </div>
    </form>
  );
}

/** Administration › Configuration: the system settings (read-only) and the system CVE allowlist. */
export function AdminSettings() {
  return (
    <AdminFrame page="settings">
      <h2>System settings</h2>
      <Settings />
      <h2 class="section-title">System CVE allowlist</h2>
      <Allowlist />
    </AdminFrame>
  );
}
