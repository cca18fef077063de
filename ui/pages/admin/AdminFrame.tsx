import type { ComponentChildren } from "preact";
import { Tabs } from "../../components/Tabs";
import { useSession } from "../../lib/session-context";

/** The administration pages, in Harbor's order: `path` under /admin/. */
const ADMIN_PAGES = [
  { path: "users", label: "Users" },
  { path: "registries", label: "Registries" },
  { path: "replication", label: "Replications" },
  { path: "gc", label: "Garbage Collection" },
  { path: "audit-log", label: "Audit Log" },
  { path: "scanners", label: "Scanners" },
  { path: "settings", label: "Configuration" },
];

/**
 * The frame of every administration page: system admins get the section's tabs and the page; anyone else a refusal,
 * and the page itself is never mounted (so none of its requests, which the server would refuse, are made).
 */
export function AdminFrame(props: { page: string; children: ComponentChildren }) {
  const session = useSession();
  if (!session.user.sysadmin_flag) {
    return (
      <section aria-labelledby="admin-title">
        <h1 id="admin-title">Administration</h1>
        <p role="alert" class="error">
          Only system administrators may use the administration pages.
        </p>
      </section>
    );
  }
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Administration</h1>
      <Tabs label="Administration sections" tabs={ADMIN_PAGES.map((p) => ({ label: p.label, href: `/admin/${p.path}` }))} current={`/admin/${props.page}`} />
      {props.children}
    </section>
  );
}
