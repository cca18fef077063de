import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startBerth, type TestBerth } from "../support/berth";
import { basicAuth, RegistryClient } from "../support/registry-client";
import { groupDn, ldapModeEnv, PEOPLE, slapdAvailable, startSlapd, type Slapd } from "../support/slapd";
import { describeIf } from "../support/tools";
import { waitUntil } from "../support/wait";

/**
 * Walks Harbor's permission matrix through the real API: every kind of caller × every action, on a public and a
 * private project, over /v2 and /api. The expectations are written out here by hand from Harbor's role table,
 * not derived from registry/auth/rbac.ts, so a wrong row there fails here.
 *
 * Robots hold exactly their listed grants (plus what a public project gives everyone): the project robot is a CI
 * pusher of its project, the system robot reads and deletes in every project ("*") and lists members.
 */
type Caller =
  | "anonymous" | "sysadmin" | "projectAdmin" | "maintainer" | "developer" | "guest" | "limitedGuest" | "outsider"
  | "projectRobot" | "systemRobot";
type Visibility = "public" | "private";
const ROLE_IDS = { projectAdmin: 1, developer: 2, guest: 3, maintainer: 4, limitedGuest: 5 } as const;
const PASSWORD = "Matrix-Passw0rd";

interface Action {
  name: string;
  /** Who may, per project visibility. */
  allowed: Record<Visibility, Caller[]>;
  /** Performs the action as `client` in `project`; returns the HTTP status. */
  run(client: RegistryClient, project: string, admin: RegistryClient, caseId: string): Promise<number>;
  /** The status that means "allowed". */
  ok: number;
}

const MEMBERS: Caller[] = ["projectAdmin", "maintainer", "developer", "guest", "limitedGuest"];
const ROBOTS: Caller[] = ["projectRobot", "systemRobot"];
const PROJECT_ROBOT_GRANTS = ["repository:pull", "repository:push"];
const SYSTEM_ROBOT_GRANTS = ["repository:pull", "repository:delete", "member:list"];
const everyone = (visibility: Visibility): Caller[] =>
  visibility === "public" ? ["anonymous", "outsider", "sysadmin", ...MEMBERS, ...ROBOTS] : ["sysadmin", ...MEMBERS, ...ROBOTS];
const CALLERS: Caller[] = ["anonymous", "outsider", "sysadmin", ...MEMBERS, ...ROBOTS];
const both = (callers: Caller[]) => ({ public: callers, private: callers });

const JSON_HEADERS = { "Content-Type": "application/json" };
/** GETs every path; their common status, or -1 when they answer differently (a route checking another permission). */
async function sameStatus(client: RegistryClient, paths: string[]): Promise<number> {
  const statuses = new Set(await Promise.all(paths.map(async (path) => (await client.fetch(path)).status)));
  return statuses.size === 1 ? [...statuses][0] : -1;
}
const projectIdOf = async (admin: RegistryClient, project: string) =>
  ((await (await admin.fetch(`/api/v2.0/projects/${project}`)).json()) as { project_id: number }).project_id;
const retentionPolicy = (projectId: number, days: number) => ({
  algorithm: "or",
  scope: { level: "project", ref: projectId },
  trigger: { kind: "Schedule", settings: { cron: "" } },
  rules: [
    {
      template: "nDaysSinceLastPush",
      params: { nDaysSinceLastPush: days },
      tag_selectors: [{ kind: "doublestar", decoration: "matches", pattern: "**" }],
      scope_selectors: { repository: [{ kind: "doublestar", decoration: "repoMatches", pattern: "**" }] },
    },
  ],
});
/** The project's retention policy (one per project), created by the admin the first time a row needs it. */
const retentionPolicies = new Map<string, string>();
async function retentionPolicyOf(admin: RegistryClient, project: string): Promise<string> {
  if (!retentionPolicies.has(project)) {
    const body = JSON.stringify(retentionPolicy(await projectIdOf(admin, project), 30));
    const created = await admin.fetch("/api/v2.0/retentions", { method: "POST", headers: JSON_HEADERS, body });
    retentionPolicies.set(project, created.headers.get("location")!);
  }
  return retentionPolicies.get(project)!;
}

/** The caller's own user id; for robots and anonymous callers (who have none), the id of another user. */
async function ownOrOtherUserId(client: RegistryClient, admin: RegistryClient): Promise<number> {
  const own = await client.fetch("/api/v2.0/users/current");
  const current = own.status === 200 ? own : await admin.fetch("/api/v2.0/users/current");
  return ((await current.json()) as { user_id: number }).user_id;
}

/** A label of `project` created by the admin, and the path of a fresh artifact of it pushed by the admin (issue 18). */
async function labelAndArtifact(admin: RegistryClient, project: string, caseId: string): Promise<{ id: number; artifact: string }> {
  const body = JSON.stringify({ name: caseId, scope: "p", project_id: await projectIdOf(admin, project) });
  const created = await admin.fetch("/api/v2.0/labels", { method: "POST", headers: JSON_HEADERS, body });
  await admin.pushImage(`${project}/app`, caseId, caseId);
  return { id: Number(created.headers.get("location")!.split("/").pop()), artifact: `/api/v2.0/projects/${project}/repositories/app/artifacts/${caseId}` };
}

const ACTIONS: Action[] = [
  {
    name: "pull a manifest (/v2)",
    allowed: { public: everyone("public"), private: everyone("private") },
    ok: 200,
    run: async (client, project) => (await client.fetch(`/v2/${project}/app/manifests/v1`)).status,
  },
  {
    name: "push a blob (/v2)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer", "developer", "projectRobot"]),
    ok: 202,
    run: async (client, project) => (await client.fetch(`/v2/${project}/app/blobs/uploads/`, { method: "POST" })).status,
  },
  {
    name: "delete a tag (/v2)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer", "systemRobot"]),
    ok: 202,
    run: async (client, project, admin, caseId) => {
      await admin.pushImage(`${project}/app`, caseId, caseId);
      return (await client.fetch(`/v2/${project}/app/manifests/${caseId}`, { method: "DELETE" })).status;
    },
  },
  {
    name: "delete an artifact (/v2)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer", "systemRobot"]),
    ok: 202,
    run: async (client, project, admin, caseId) => {
      const { manifestDigest } = await admin.pushImage(`${project}/app`, caseId, caseId);
      return (await client.fetch(`/v2/${project}/app/manifests/${manifestDigest}`, { method: "DELETE" })).status;
    },
  },
  {
    name: "list tags (/v2)",
    allowed: { public: everyone("public"), private: everyone("private") },
    ok: 200,
    run: async (client, project) => (await client.fetch(`/v2/${project}/app/tags/list`)).status,
  },
  {
    name: "read the project (/api)",
    allowed: { public: everyone("public"), private: ["sysadmin", ...MEMBERS] },
    ok: 200,
    run: async (client, project) => (await client.fetch(`/api/v2.0/projects/${project}`)).status,
  },
  {
    name: "list members (/api)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer", "developer", "guest", "systemRobot"]),
    ok: 200,
    run: async (client, project) => (await client.fetch(`/api/v2.0/projects/${project}/members`)).status,
  },
  {
    name: "add a member (/api)",
    allowed: both(["sysadmin", "projectAdmin"]),
    ok: 201,
    run: async (client, project, admin, caseId) => {
      await admin.createUser(caseId, PASSWORD);
      return (
        await client.fetch(`/api/v2.0/projects/${project}/members`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ role_id: 3, member_user: { username: caseId } }),
        })
      ).status;
    },
  },
  {
    name: "read the project's audit log (/api)",
    allowed: both(["sysadmin", "projectAdmin"]),
    ok: 200,
    run: async (client, project) => (await client.fetch(`/api/v2.0/projects/${project}/logs`)).status,
  },
  {
    name: "create a project robot (/api)",
    allowed: both(["sysadmin", "projectAdmin"]),
    ok: 201,
    run: async (client, project, _admin, caseId) => {
      const permissions = [{ kind: "project", namespace: project, access: [{ resource: "repository", action: "pull" }] }];
      const body = { name: caseId, level: "project", duration: 1, permissions };
      return (
        await client.fetch("/api/v2.0/robots", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      ).status;
    },
  },
  // Stricter than Harbor, whose developers may write and run retention (and so delete artifacts).
  {
    name: "create a retention policy (/api)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer"]),
    ok: 201,
    run: async (client, project, admin) => {
      // Runs before the rows below create the project's one policy; a policy created here is removed at once.
      const body = JSON.stringify(retentionPolicy(await projectIdOf(admin, project), 30));
      const created = await client.fetch("/api/v2.0/retentions", { method: "POST", headers: JSON_HEADERS, body });
      if (created.status === 201) await admin.fetch(created.headers.get("location")!, { method: "DELETE" });
      return created.status;
    },
  },
  {
    name: "change a retention policy (/api)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer"]),
    ok: 200,
    run: async (client, project, admin) => {
      const body = JSON.stringify(retentionPolicy(await projectIdOf(admin, project), 60));
      return (await client.fetch(await retentionPolicyOf(admin, project), { method: "PUT", headers: JSON_HEADERS, body })).status;
    },
  },
  {
    name: "run a retention policy (/api)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer"]),
    ok: 201,
    run: async (client, project, admin) => {
      const location = await retentionPolicyOf(admin, project);
      return (await client.fetch(`${location}/executions`, { method: "POST", headers: JSON_HEADERS, body: '{"dry_run":true}' })).status;
    },
  },
  {
    name: "read a retention policy (/api)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer", "developer"]),
    ok: 200,
    run: async (client, project, admin) => (await client.fetch(await retentionPolicyOf(admin, project))).status,
  },
  {
    name: "read the GitOps controller's status (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/controller/status")).status,
  },
  {
    name: "report a GitOps watcher's state (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client, _project, _admin, caseId) =>
      (await client.fetch(`/api/v2.0/controller/watchers/${caseId}`, { method: "PUT", headers: { "Content-Type": "application/json" }, body: '{"ready":true}' })).status,
  },
  {
    // The matrix server runs with BERTH_PROJECT_CREATION_RESTRICTION=adminonly (under everyone, any user may).
    name: "create a project (/api, adminonly)",
    allowed: both(["sysadmin"]),
    ok: 201,
    run: async (client, _project, _admin, caseId) =>
      (await client.fetch("/api/v2.0/projects", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ project_name: `new-${caseId}` }) })).status,
  },
  {
    name: "read the configurations (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/configurations")).status,
  },
  {
    name: "import vulnerability records (/api)",
    allowed: both(["sysadmin"]),
    ok: 201,
    run: async (client, _project, _admin, caseId) =>
      (await client.fetch("/api/v2.0/vulndb/import", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ id: `x_${caseId}`, modified: "2026-01-01T00:00:00Z" }) })).status,
  },
  {
    name: "read the vulnerability database's status (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/vulndb")).status,
  },
  {
    name: "scan an artifact (/api)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer"]),
    ok: 202,
    run: async (client, project) => (await client.fetch(`/api/v2.0/projects/${project}/repositories/app/artifacts/v1/scan`, { method: "POST" })).status,
  },
  {
    name: "read an artifact's vulnerabilities (/api)",
    allowed: { public: everyone("public"), private: ["sysadmin", ...MEMBERS] },
    ok: 200,
    run: async (client, project) => (await client.fetch(`/api/v2.0/projects/${project}/repositories/app/artifacts/v1/additions/vulnerabilities`)).status,
  },
  // What the web UI's pages read (issue 17).
  {
    name: "read an artifact's build history and manifest (/api)",
    allowed: { public: everyone("public"), private: ["sysadmin", ...MEMBERS] },
    ok: 200,
    run: async (client, project) => {
      const base = `/api/v2.0/projects/${project}/repositories/app/artifacts/v1/additions`;
      return sameStatus(client, [`${base}/build_history`, `${base}/manifest`]);
    },
  },
  {
    name: "learn which of the project's objects the GitOps controller manages (/api)",
    allowed: { public: everyone("public"), private: ["sysadmin", ...MEMBERS] },
    ok: 200,
    run: async (client, project) => (await client.fetch(`/api/v2.0/projects/${project}/gitops`)).status,
  },
  {
    name: "read the GitOps status and every managed object (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) => sameStatus(client, ["/api/v2.0/gitops/status", "/api/v2.0/gitops/managed"]),
  },
  {
    name: "read the system information (/api; more once logged in)",
    allowed: both(CALLERS),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/systeminfo")).status,
  },
  {
    name: "ask one's own permissions in the project and the system (/api)",
    allowed: both(["sysadmin", "outsider", ...MEMBERS, ...ROBOTS]),
    ok: 200,
    run: async (client, project, admin) => {
      const scopes = [`/project/${await projectIdOf(admin, project)}&relative=true`, "/system"];
      return sameStatus(client, scopes.map((scope) => `/api/v2.0/users/current/permissions?scope=${scope}`));
    },
  },
  {
    name: "list one's own groups from the sign-in (/api; users only)",
    allowed: both(["sysadmin", "outsider", ...MEMBERS]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/users/current/groups")).status,
  },
  {
    name: "read the project's scanner (/api)",
    allowed: { public: everyone("public"), private: ["sysadmin", ...MEMBERS] },
    ok: 200,
    run: async (client, project) => (await client.fetch(`/api/v2.0/projects/${project}/scanner`)).status,
  },
  {
    name: "set the project's scanner (/api)",
    allowed: both(["sysadmin", "projectAdmin"]),
    ok: 200,
    run: async (client, project) =>
      (await client.fetch(`/api/v2.0/projects/${project}/scanner`, { method: "PUT", headers: JSON_HEADERS, body: '{"uuid":"berth-embedded"}' })).status,
  },
  {
    name: "list scanners (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/scanners")).status,
  },
  {
    name: "register a scanner adapter (/api)",
    allowed: both(["sysadmin"]),
    ok: 201,
    // This registry's own adapter endpoint (a distinct path per case): registrable without leaving the host.
    run: async (client, _project, _admin, caseId) =>
      (
        await client.fetch("/api/v2.0/scanners", {
          method: "POST",
          headers: JSON_HEADERS,
          body: JSON.stringify({ name: `matrix-${caseId}`, url: `${client.baseUrl}/scanner/${caseId}` }),
        })
      ).status,
  },
  {
    name: "read a scanner registration and its metadata (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) =>
      Math.max((await client.fetch("/api/v2.0/scanners/berth-embedded")).status, (await client.fetch("/api/v2.0/scanners/berth-embedded/metadata")).status),
  },
  {
    name: "make a scanner the default (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) =>
      (await client.fetch("/api/v2.0/scanners/berth-embedded", { method: "PATCH", headers: JSON_HEADERS, body: '{"is_default":true}' })).status,
  },
  {
    name: "read the system CVE allowlist (/api)",
    allowed: both(["sysadmin", "outsider", ...MEMBERS, ...ROBOTS]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/system/CVEAllowlist")).status,
  },
  {
    name: "write the system CVE allowlist (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) =>
      (await client.fetch("/api/v2.0/system/CVEAllowlist", { method: "PUT", headers: JSON_HEADERS, body: '{"items":[],"expires_at":null}' })).status,
  },
  {
    name: "read the scan all schedule and progress (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) => {
      const paths = ["/api/v2.0/system/scanAll/schedule", "/api/v2.0/scans/all/metrics", "/api/v2.0/scans/schedule/metrics"];
      return Math.max(...(await Promise.all(paths.map(async (p) => (await client.fetch(p)).status))));
    },
  },
  {
    name: "set the scan all schedule (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) =>
      (await client.fetch("/api/v2.0/system/scanAll/schedule", { method: "PUT", headers: JSON_HEADERS, body: '{"schedule":{"type":"None"}}' })).status,
  },
  // Rows whose allowed answer is a refusal of the request's state (nothing to stop, no mirror, no such scanner):
  // what they show is that the permission check comes first and lets exactly these callers through.
  {
    name: "stop scan all (/api; none running: 400)",
    allowed: both(["sysadmin"]),
    ok: 400,
    run: async (client) => (await client.fetch("/api/v2.0/system/scanAll/stop", { method: "POST" })).status,
  },
  {
    name: "stop an artifact's scan (/api; none running: 400)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer"]),
    ok: 400,
    run: async (client, project) => (await client.fetch(`/api/v2.0/projects/${project}/repositories/app/artifacts/v1/scan/stop`, { method: "POST" })).status,
  },
  {
    name: "sync the vulnerability database (/api; no mirror: 412)",
    allowed: both(["sysadmin"]),
    ok: 412,
    run: async (client) => (await client.fetch("/api/v2.0/vulndb/sync", { method: "POST" })).status,
  },
  {
    name: "ping a scanner adapter (/api; no url: 400)",
    allowed: both(["sysadmin"]),
    ok: 400,
    run: async (client) => (await client.fetch("/api/v2.0/scanners/ping", { method: "POST", headers: JSON_HEADERS, body: "{}" })).status,
  },
  {
    name: "change and delete a scanner registration (/api; none such: 404)",
    allowed: both(["sysadmin"]),
    ok: 404,
    run: async (client) => {
      const path = "/api/v2.0/scanners/00000000-0000-4000-8000-000000000000";
      const put = (await client.fetch(path, { method: "PUT", headers: JSON_HEADERS, body: '{"name":"x","url":"https://scanner.example"}' })).status;
      const removed = (await client.fetch(path, { method: "DELETE" })).status;
      return put === removed ? put : -1;
    },
  },
  // Harbor's artifact API, the rest (issue 18: artifact copy, repositories, project artifacts, accessories, charts).
  {
    name: "copy an artifact into the project (/api; from the project's own app:v1)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer", "developer"]),
    ok: 201,
    run: async (client, project, _admin, caseId) =>
      (await client.fetch(`/api/v2.0/projects/${project}/repositories/copy-${caseId}/artifacts?from=${project}/app:v1`, { method: "POST" })).status,
  },
  {
    name: "see the project's repositories in GET /repositories (/api; 200 listed, else 401/403 here)",
    allowed: { public: everyone("public"), private: ["sysadmin", ...MEMBERS] },
    ok: 200,
    run: async (client, project) => {
      const listed = (await (await client.fetch("/api/v2.0/repositories?page_size=100")).json()) as { name: string }[];
      if (listed.some((repository) => repository.name === `${project}/app`)) return 200;
      return client === clients.get("anonymous") ? 401 : 403;
    },
  },
  {
    name: "set a repository's description (/api)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer", "developer"]),
    ok: 200,
    run: async (client, project) =>
      (await client.fetch(`/api/v2.0/projects/${project}/repositories/app`, { method: "PUT", headers: JSON_HEADERS, body: '{"description":"matrix"}' })).status,
  },
  {
    name: "list the project's artifacts and an artifact's accessories (/api)",
    allowed: { public: everyone("public"), private: ["sysadmin", ...MEMBERS] },
    ok: 200,
    run: async (client, project) =>
      sameStatus(client, [`/api/v2.0/projects/${project}/artifacts`, `/api/v2.0/projects/${project}/repositories/app/artifacts/v1/accessories`]),
  },
  {
    name: "read a Helm chart's additions (/api; app:v1 is no chart: 400 once allowed)",
    allowed: { public: everyone("public"), private: ["sysadmin", ...MEMBERS] },
    ok: 400,
    run: async (client, project) => {
      const base = `/api/v2.0/projects/${project}/repositories/app/artifacts/v1/additions`;
      return sameStatus(client, [`${base}/values.yaml`, `${base}/readme.md`, `${base}/dependencies`]);
    },
  },
  // Security hub and CVE export (scan-hub).
  {
    name: "read the security hub summary and vulnerability list (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) =>
      Math.max((await client.fetch("/api/v2.0/security/summary?with_dangerous_cve=true")).status, (await client.fetch("/api/v2.0/security/vul")).status),
  },
  {
    name: "export the project's CVEs (/api)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer", "developer"]),
    ok: 200,
    run: async (client, project, admin) =>
      (await client.fetch("/api/v2.0/export/cve", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ projects: [await projectIdOf(admin, project)] }) })).status,
  },
  {
    name: "list one's own CVE exports (/api)",
    allowed: both(["sysadmin", "outsider", ...MEMBERS, ...ROBOTS]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/export/cve/executions")).status,
  },
  {
    name: "read and download a CVE export someone else asked for (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client, project, admin) => {
      const body = JSON.stringify({ projects: [await projectIdOf(admin, project)] });
      const { id } = (await (await admin.fetch("/api/v2.0/export/cve", { method: "POST", headers: JSON_HEADERS, body })).json()) as { id: number };
      await waitUntil(
        async () => ((await (await admin.fetch(`/api/v2.0/export/cve/execution/${id}`)).json()) as { status: string }).status !== "Running",
        `export ${id} ends`,
      );
      return Math.max((await client.fetch(`/api/v2.0/export/cve/execution/${id}`)).status, (await client.fetch(`/api/v2.0/export/cve/download/${id}`)).status);
    },
  },
  // Labels, search, statistics, ping and system information (issue 18).
  {
    name: "ping and search (/api)",
    allowed: both(CALLERS),
    ok: 200,
    run: async (client) => sameStatus(client, ["/api/v2.0/ping", "/api/v2.0/search?q=matrix"]),
  },
  {
    name: "download the CA certificate (/api; none configured: 404)",
    allowed: both(CALLERS),
    ok: 404,
    run: async (client) => (await client.fetch("/api/v2.0/systeminfo/getcert")).status,
  },
  {
    name: "read the statistics (/api)",
    allowed: both(["sysadmin", "outsider", ...MEMBERS, ...ROBOTS]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/statistics")).status,
  },
  {
    name: "read the storage volumes (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/systeminfo/volumes")).status,
  },
  {
    name: "list global labels (/api)",
    allowed: both(["sysadmin", "outsider", ...MEMBERS, ...ROBOTS]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/labels?scope=g")).status,
  },
  {
    name: "create a global label (/api)",
    allowed: both(["sysadmin"]),
    ok: 201,
    run: async (client, _project, _admin, caseId) =>
      (await client.fetch("/api/v2.0/labels", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ name: caseId, scope: "g" }) })).status,
  },
  {
    name: "list and read the project's labels (/api)",
    allowed: { public: everyone("public"), private: ["sysadmin", "projectAdmin", "maintainer", "developer", "guest"] },
    ok: 200,
    run: async (client, project, admin, caseId) => {
      const { id } = await labelAndArtifact(admin, project, caseId);
      return sameStatus(client, [`/api/v2.0/labels?scope=p&project_id=${await projectIdOf(admin, project)}`, `/api/v2.0/labels/${id}`]);
    },
  },
  {
    name: "create, change and delete a project label (/api)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer"]),
    ok: 201,
    run: async (client, project, admin, caseId) => {
      const body = JSON.stringify({ name: caseId, scope: "p", project_id: await projectIdOf(admin, project) });
      const created = await client.fetch("/api/v2.0/labels", { method: "POST", headers: JSON_HEADERS, body });
      if (created.status !== 201) return created.status;
      const label = created.headers.get("location")!;
      const changed = await client.fetch(label, { method: "PUT", headers: JSON_HEADERS, body: '{"color":"#00ff00"}' });
      const deleted = await client.fetch(label, { method: "DELETE" });
      return changed.status === 200 && deleted.status === 200 ? 201 : -1;
    },
  },
  {
    name: "add a label to an artifact (/api)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer", "developer"]),
    ok: 200,
    run: async (client, project, admin, caseId) => {
      const { id, artifact } = await labelAndArtifact(admin, project, caseId);
      return (await client.fetch(`${artifact}/labels`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ id }) })).status;
    },
  },
  {
    name: "remove a label from an artifact (/api)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer", "developer"]),
    ok: 200,
    run: async (client, project, admin, caseId) => {
      const { id, artifact } = await labelAndArtifact(admin, project, caseId);
      await admin.fetch(`${artifact}/labels`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ id }) });
      return (await client.fetch(`${artifact}/labels/${id}`, { method: "DELETE" })).status;
    },
  },
  // Issue 19: user groups (system admins manage them; project admins search them to add group members).
  {
    name: "list user groups (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/usergroups")).status,
  },
  {
    name: "create, read, rename and delete a user group (/api)",
    allowed: both(["sysadmin"]),
    ok: 201,
    run: async (client, _project, _admin, caseId) => {
      const created = await client.fetch("/api/v2.0/usergroups", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ group_name: caseId, group_type: 3 }) });
      if (created.status !== 201) return created.status;
      const group = created.headers.get("location")!;
      const read = await client.fetch(group);
      const renamed = await client.fetch(group, { method: "PUT", headers: JSON_HEADERS, body: JSON.stringify({ group_name: `${caseId}-renamed` }) });
      const deleted = await client.fetch(group, { method: "DELETE" });
      return read.status === 200 && renamed.status === 200 && deleted.status === 200 ? 201 : -1;
    },
  },
  {
    name: "search user groups (/api)",
    allowed: both(["sysadmin", "projectAdmin"]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/usergroups/search?groupname=x")).status,
  },
  {
    name: "add a user group as a project member (/api)",
    allowed: both(["sysadmin", "projectAdmin"]),
    ok: 201,
    run: async (client, project, _admin, caseId) => {
      const body = JSON.stringify({ role_id: 2, member_group: { group_name: caseId, group_type: 3 } });
      return (await client.fetch(`/api/v2.0/projects/${project}/members`, { method: "POST", headers: JSON_HEADERS, body })).status;
    },
  },
  // Issue 18: run-time configuration, audit purge, webhook history views and Harbor's small catalogues.
  {
    name: "change the configuration (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/configurations", { method: "PUT", headers: JSON_HEADERS, body: '{"storage_per_project":-1}' })).status,
  },
  {
    name: "read audit purge runs and schedule (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) => sameStatus(client, ["/api/v2.0/system/purgeaudit", "/api/v2.0/system/purgeaudit/schedule", "/api/v2.0/auditlog-exts/events"]),
  },
  {
    name: "set the audit purge schedule (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/system/purgeaudit/schedule", { method: "PUT", headers: JSON_HEADERS, body: '{"schedule":{"type":"None"}}' })).status,
  },
  {
    name: "list audit records under Harbor 2.13's name (/api; none visible: empty)",
    allowed: both(["sysadmin", "outsider", ...MEMBERS, ...ROBOTS]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/auditlog-exts")).status,
  },
  {
    name: "read the project's audit log under Harbor 2.13's name (/api)",
    allowed: both(["sysadmin", "projectAdmin"]),
    ok: 200,
    run: async (client, project) => (await client.fetch(`/api/v2.0/projects/${project}/auditlog-exts`)).status,
  },
  {
    name: "read webhook last triggers (/api)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer"]),
    ok: 200,
    run: async (client, project) => (await client.fetch(`/api/v2.0/projects/${project}/webhook/lasttrigger`)).status,
  },
  {
    name: "list webhook jobs (/api; no such policy: 404)",
    allowed: both(["sysadmin", "projectAdmin", "maintainer"]),
    ok: 404,
    run: async (client, project) => (await client.fetch(`/api/v2.0/projects/${project}/webhook/jobs?policy_id=999999`)).status,
  },
  {
    name: "read replication adapter infos (/api)",
    allowed: both(["sysadmin"]),
    ok: 200,
    run: async (client) => (await client.fetch("/api/v2.0/replication/adapterinfos")).status,
  },
  // Issue 19, LDAP: system admins only; the matrix server runs in db mode, so an allowed call meets 412.
  ...[
    ["ping the LDAP directory", "POST", "/api/v2.0/ldap/ping"],
    ["search LDAP users", "GET", "/api/v2.0/ldap/users/search?username=a"],
    ["search LDAP groups", "GET", "/api/v2.0/ldap/groups/search?groupname=a"],
    ["import LDAP users", "POST", "/api/v2.0/ldap/users/import"],
  ].map(([name, method, path]): Action => ({
    name: `${name} (/api)`,
    allowed: both(["sysadmin"]),
    ok: 412,
    run: async (client) =>
      (await client.fetch(path, method === "POST" ? { method, headers: JSON_HEADERS, body: '{"ldap_uid_list":["a"]}' } : {})).status,
  })),
  // Issue 19, CLI secrets: the user themself or a system admin (never a robot); the matrix server runs in db mode,
  // so an allowed call meets 412 (CLI secrets exist in oidc mode only, see identity/oidc-cli-secret.test.ts).
  {
    name: "generate one's own CLI secret (/api)",
    allowed: both(["sysadmin", "outsider", ...MEMBERS]),
    ok: 412,
    run: async (client, _project, admin) => (await client.fetch(`/api/v2.0/users/${await ownOrOtherUserId(client, admin)}/cli_secret`, { method: "POST" })).status,
  },
  {
    name: "set one's own CLI secret (/api)",
    allowed: both(["sysadmin", "outsider", ...MEMBERS]),
    ok: 412,
    run: async (client, _project, admin) => {
      const body = JSON.stringify({ secret: "Chosen-Secret-42" });
      return (await client.fetch(`/api/v2.0/users/${await ownOrOtherUserId(client, admin)}/cli_secret`, { method: "PUT", headers: JSON_HEADERS, body })).status;
    },
  },
  {
    name: "generate or set another user's CLI secret (/api)",
    allowed: both(["sysadmin"]),
    ok: 412,
    run: async (client, _project, admin, caseId) => {
      const id = await admin.createUser(caseId, PASSWORD);
      const generated = await client.fetch(`/api/v2.0/users/${id}/cli_secret`, { method: "POST" });
      const body = JSON.stringify({ secret: "Chosen-Secret-42" });
      const set = await client.fetch(`/api/v2.0/users/${id}/cli_secret`, { method: "PUT", headers: JSON_HEADERS, body });
      return generated.status === set.status ? set.status : -1;
    },
  },
  {
    name: "fetch an artifact type's icon (/api)",
    allowed: both(CALLERS),
    ok: 200,
    run: async (client, project, admin) => {
      const [artifact] = (await (await admin.fetch(`/api/v2.0/projects/${project}/repositories/app/artifacts`)).json()) as { icon: string }[];
      return (await client.fetch(`/api/v2.0/icons/${artifact.icon}`)).status;
    },
  },
];

const PROJECTS: Record<Visibility, string> = { public: "matrix-pub", private: "matrix-priv" };

let berth: TestBerth;
let admin: RegistryClient;
const clients = new Map<Caller, RegistryClient>();
const projectRobots = new Map<Visibility, RegistryClient>();
const clientFor = (caller: Caller, visibility: Visibility) =>
  caller === "projectRobot" ? projectRobots.get(visibility)! : clients.get(caller)!;

const access = (grants: string[]) => grants.map((grant) => ({ resource: grant.split(":")[0], action: grant.split(":")[1] }));
async function robotClient(body: Record<string, unknown>): Promise<RegistryClient> {
  const robot = await admin.createRobot({ duration: -1, ...body });
  return new RegistryClient(berth.url, basicAuth(robot.name, robot.secret));
}

beforeAll(async () => {
  berth = await startBerth({ env: { BERTH_PROJECT_CREATION_RESTRICTION: "adminonly" } });
  admin = new RegistryClient(berth.url);
  clients.set("sysadmin", admin);
  clients.set("anonymous", new RegistryClient(berth.url, null));
  for (const [visibility, project] of Object.entries(PROJECTS) as [Visibility, string][]) {
    await admin.createProject(project, { public: visibility === "public" });
    await admin.pushImage(`${project}/app`, "v1");
    const permissions = [{ kind: "project", namespace: project, access: access(PROJECT_ROBOT_GRANTS) }];
    projectRobots.set(visibility, await robotClient({ name: "ci", level: "project", permissions }));
  }
  const everyProject = [{ kind: "project", namespace: "*", access: access(SYSTEM_ROBOT_GRANTS) }];
  clients.set("systemRobot", await robotClient({ name: "janitor", level: "system", permissions: everyProject }));
  for (const caller of ["outsider", ...MEMBERS] as Caller[]) {
    const username = caller.toLowerCase();
    await admin.createUser(username, PASSWORD);
    clients.set(caller, new RegistryClient(berth.url, basicAuth(username, PASSWORD)));
    if (caller !== "outsider") {
      for (const project of Object.values(PROJECTS)) await admin.addMember(project, username, ROLE_IDS[caller as keyof typeof ROLE_IDS]);
    }
  }
});
afterAll(() => berth.close());

const rows = ACTIONS.flatMap((action) =>
  (["public", "private"] as Visibility[]).flatMap((visibility) =>
    CALLERS.map((caller) => ({ action, visibility, caller, allowed: action.allowed[visibility].includes(caller) })),
  ),
);

let caseNumber = 0;
test.each(rows)("$visibility project: $caller → $action.name → allowed=$allowed", async ({ action, visibility, caller, allowed }) => {
  const caseId = `case${++caseNumber}${caller.toLowerCase()}`;
  const status = await action.run(clientFor(caller, visibility), PROJECTS[visibility], admin, caseId);
  if (allowed) expect(status).toBe(action.ok);
  else expect(status).toBe(caller === "anonymous" ? 401 : 403);
});

describe("refusals name the caller, the action and the target", () => {
  const errorOf = async (response: Response) => {
    const [error] = ((await response.json()) as { errors: Record<string, unknown>[] }).errors;
    return { status: response.status, ...error };
  };

  it("a developer's delete on /v2 with Basic credentials: 403 DENIED", async () => {
    const response = await clientFor("developer", "private").fetch("/v2/matrix-priv/app/manifests/v1", { method: "DELETE" });
    expect(await errorOf(response)).toEqual({
      status: 403,
      code: "DENIED",
      message: "unauthorized to access repository: matrix-priv/app, action: delete, caller: user developer",
    });
  });

  it("a developer's delete on /v2 through the token flow: 401 with the scope to ask for, naming who was refused", async () => {
    const token = await clientFor("developer", "private").fetch("/service/token?service=berth&scope=repository:matrix-priv/app:delete");
    const { token: jwt } = (await token.json()) as { token: string };
    const response = await new RegistryClient(berth.url, `Bearer ${jwt}`).fetch("/v2/matrix-priv/app/manifests/v1", { method: "DELETE" });
    expect(response.headers.get("www-authenticate")).toMatch(/scope="repository:matrix-priv\/app:delete",error="insufficient_scope"$/);
    expect(await errorOf(response)).toEqual({
      status: 401,
      code: "UNAUTHORIZED",
      message: "unauthorized to access repository: matrix-priv/app, action: delete, caller: user developer",
    });
  });

  it("a developer's artifact delete on /api: 403 FORBIDDEN", async () => {
    const response = await clientFor("developer", "private").fetch("/api/v2.0/projects/matrix-priv/repositories/app/artifacts/v1", { method: "DELETE" });
    expect(await errorOf(response)).toEqual({ status: 403, code: "FORBIDDEN", message: "user developer may not delete artifacts of project matrix-priv" });
  });

  it("names robots by their login name", async () => {
    const response = await clientFor("projectRobot", "private").fetch("/v2/matrix-priv/app/manifests/v1", { method: "DELETE" });
    expect(await errorOf(response)).toMatchObject({ status: 403, message: "unauthorized to access repository: matrix-priv/app, action: delete, caller: robot robot$matrix-priv+ci" });
  });

  it("tells those who may not see a private project nothing about it: the answer is the one for a missing project", async () => {
    for (const caller of ["anonymous", "outsider"] as Caller[]) {
      const client = clientFor(caller, "private");
      for (const path of ["/v2/{p}/app/manifests/v1", "/api/v2.0/projects/{p}", "/api/v2.0/projects/{p}/repositories/app/artifacts/v1"]) {
        const method = path.startsWith("/v2") ? "GET" : "DELETE";
        const existing = await errorOf(await client.fetch(path.replace("{p}", "matrix-priv"), { method }));
        const missing = await errorOf(await client.fetch(path.replace("{p}", "matrix-none"), { method }));
        expect(existing.status).toBe(caller === "anonymous" ? 401 : 403);
        expect(JSON.stringify(missing)).toBe(JSON.stringify(existing).replaceAll("matrix-priv", "matrix-none"));
      }
    }
    const anonymous = await errorOf(await clientFor("anonymous", "private").fetch("/api/v2.0/projects/matrix-priv/repositories/app/artifacts/v1", { method: "DELETE" }));
    expect(anonymous).toEqual({ status: 401, code: "UNAUTHORIZED", message: "anonymous may not delete artifacts of project matrix-priv" });
  });
});

/**
 * Roles through groups (issue 19): users who are members of a project only through a directory group, on a server in
 * ldap mode (slapd). bob is in the group "devs", carol in none; devs are developers of one project and guests of
 * another, so the same user pushes in the first and is refused in the second, and carol is refused in both.
 */
describeIf(slapdAvailable, "slapd and ldap-utils (apt-get install slapd ldap-utils)", "roles held through a group", () => {
  type GroupCaller = "developerViaGroup" | "guestViaGroup" | "noGroupRole";
  const GROUP_PROJECTS = { developerViaGroup: "group-dev", guestViaGroup: "group-guest" } as const;
  let slapd: Slapd;
  let ldapBerth: TestBerth;
  let work: string;
  /** Each caller with the project it is tested in: bob in either project, carol in the developers' one. */
  const callerIn = (caller: GroupCaller): { client: RegistryClient; project: string } =>
    caller === "noGroupRole"
      ? { client: new RegistryClient(ldapBerth.url, basicAuth("carol", PEOPLE.carol.password)), project: GROUP_PROJECTS.developerViaGroup }
      : { client: new RegistryClient(ldapBerth.url, basicAuth("bob", PEOPLE.bob.password)), project: GROUP_PROJECTS[caller] };

  beforeAll(async () => {
    slapd = await startSlapd();
    work = await mkdtemp(path.join(tmpdir(), "berth-matrix-ldap-"));
    ldapBerth = await startBerth({ env: await ldapModeEnv(slapd, work) });
    const ldapAdmin = new RegistryClient(ldapBerth.url);
    for (const [project, role] of [[GROUP_PROJECTS.developerViaGroup, ROLE_IDS.developer], [GROUP_PROJECTS.guestViaGroup, ROLE_IDS.guest]] as const) {
      await ldapAdmin.createProject(project, { public: false });
      await ldapAdmin.pushImage(`${project}/app`, "v1");
      const body = JSON.stringify({ role_id: role, member_group: { group_name: "devs", ldap_group_dn: groupDn("devs"), group_type: 1 } });
      const added = await ldapAdmin.fetch(`/api/v2.0/projects/${project}/members`, { method: "POST", headers: JSON_HEADERS, body });
      expect(added.status).toBe(201);
    }
  }, 60_000);
  afterAll(async () => {
    await ldapBerth?.close();
    await slapd?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const groupRows: { name: string; caller: GroupCaller; expected: number; run(client: RegistryClient, project: string): Promise<number> }[] = [
    ...([["developerViaGroup", 202], ["guestViaGroup", 403], ["noGroupRole", 403]] as const).map(([caller, expected]) => ({
      name: "push a blob (/v2)",
      caller,
      expected,
      run: async (client: RegistryClient, project: string) => (await client.fetch(`/v2/${project}/app/blobs/uploads/`, { method: "POST" })).status,
    })),
    ...([["developerViaGroup", 200], ["guestViaGroup", 200], ["noGroupRole", 403]] as const).map(([caller, expected]) => ({
      name: "pull a manifest (/v2)",
      caller,
      expected,
      run: async (client: RegistryClient, project: string) => (await client.fetch(`/v2/${project}/app/manifests/v1`)).status,
    })),
    ...([["developerViaGroup", 2], ["guestViaGroup", 3], ["noGroupRole", 403]] as const).map(([caller, expected]) => ({
      name: "read the project: current_user_role_id (/api)",
      caller,
      expected,
      run: async (client: RegistryClient, project: string) => {
        const response = await client.fetch(`/api/v2.0/projects/${project}`);
        return response.status === 200 ? ((await response.json()) as { current_user_role_id: number }).current_user_role_id : response.status;
      },
    })),
    ...([["developerViaGroup", 1], ["guestViaGroup", 0], ["noGroupRole", 0]] as const).map(([caller, expected]) => ({
      name: "count repository:push among the current user's permissions (/api)",
      caller,
      expected,
      run: async (client: RegistryClient, project: string) => {
        const { project_id: id } = (await (await new RegistryClient(ldapBerth.url).fetch(`/api/v2.0/projects/${project}`)).json()) as { project_id: number };
        const permissions = (await (await client.fetch(`/api/v2.0/users/current/permissions?scope=/project/${id}&relative=true`)).json()) as { resource: string; action: string }[];
        return permissions.filter((p) => p.resource === "repository" && p.action === "push").length;
      },
    })),
  ];

  test.each(groupRows)("$caller → $name → $expected", async ({ caller, expected, run }) => {
    const { client, project } = callerIn(caller);
    expect(await run(client, project)).toBe(expected);
  });
});
