import type { VNode } from "preact";
import { GitOps } from "./pages/GitOps";
import { Artifact } from "./pages/Artifact";
import { AdminAuditLog } from "./pages/admin/AdminAuditLog";
import { AdminGc } from "./pages/admin/AdminGc";
import { AdminRegistries } from "./pages/admin/AdminRegistries";
import { AdminReplication } from "./pages/admin/AdminReplication";
import { AdminScanners } from "./pages/admin/AdminScanners";
import { AdminSettings } from "./pages/admin/AdminSettings";
import { AdminUsers } from "./pages/admin/AdminUsers";
import { Profile } from "./pages/Profile";
import { Project } from "./pages/Project";
import { Projects } from "./pages/Projects";
import { Repository } from "./pages/Repository";

/**
 * The signed-in pages, by path pattern (first match wins). A page author adds a line here and a file under pages/;
 * `:name` parts arrive decoded.
 */
export const ROUTES: { pattern: string; render: (params: Record<string, string>) => VNode }[] = [
  { pattern: "/projects", render: () => <Projects /> },
  { pattern: "/projects/:name", render: (p) => <Project name={p.name} tab="repositories" /> },
  { pattern: "/projects/:name/:tab", render: (p) => <Project name={p.name} tab={p.tab} /> },
  { pattern: "/gitops", render: () => <GitOps /> },
  { pattern: "/profile", render: () => <Profile /> },
  { pattern: "/projects/:name/repositories/:repo", render: (p) => <Repository project={p.name} repository={p.repo} /> },
  { pattern: "/projects/:name/repositories/:repo/artifacts/:digest", render: (p) => <Artifact project={p.name} repository={p.repo} digest={p.digest} /> },
  { pattern: "/admin", render: () => <AdminUsers /> },
  { pattern: "/admin/users", render: () => <AdminUsers /> },
  { pattern: "/admin/registries", render: () => <AdminRegistries /> },
  { pattern: "/admin/replication", render: () => <AdminReplication /> },
  { pattern: "/admin/gc", render: () => <AdminGc /> },
  { pattern: "/admin/audit-log", render: () => <AdminAuditLog /> },
  { pattern: "/admin/scanners", render: () => <AdminScanners /> },
  { pattern: "/admin/settings", render: () => <AdminSettings /> },
];
