import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditLog } from "../audit/audit-log";
import type { ActionName } from "../auth/rbac";
import { principalName } from "../auth/principal";
import type { Sql } from "../db/sql";
import { claimSource, describeSource, managingSource, SourceConflict, type PolicySourceId } from "../gitops/ownership";
import { HarborError } from "./errors";
import { isJsonObject, jsonObjectBody, paging, setPageHeaders } from "./params";
import { requireSystem } from "./project-access";

/** The largest page of /controller/members (Harbor's listings stop at 100; the controller reads every membership). */
export const CONTROLLER_PAGE_SIZE_MAX = 10_000;

/**
 * /api/v2.0/controller: what the GitOps controller keeps in the registry (Berth's own extension, system admins):
 * its inventory of managed objects, a lock so one controller applies at a time, the suspend switch, its run history.
 */
export function registerControllerStateRoutes(app: FastifyInstance, deps: { sql: Sql; audit: AuditLog }): void {
  const { sql, audit } = deps;
  const allow = (request: FastifyRequest, action: ActionName) => {
    requireSystem(request.principal, "configuration", action);
  };
  const text = (value: unknown, field: string, max = 1024): string => {
    if (typeof value !== "string" || value === "" || value.length > max || value.includes("\0")) throw new HarborError("BAD_REQUEST", `${field} must be a non-empty string`);
    return value;
  };
  const sourceOf = (value: unknown): PolicySourceId => {
    if (!isJsonObject(value)) throw new HarborError("BAD_REQUEST", "source must be an object {repo, branch, dir}");
    const optional = (field: "branch" | "dir") => (value[field] === undefined || value[field] === "" ? "" : text(value[field], `source.${field}`, 255));
    return { repo: text(value.repo, "source.repo"), branch: optional("branch"), dir: optional("dir") };
  };

  app.get("/api/v2.0/controller/inventory", async (request) => {
    allow(request, "read");
    return sql.query("SELECT kind, key, adopted, created_at FROM controller_inventory ORDER BY kind, key");
  });

  // Changes to the inventory after a run: what the run created or adopted, and what it deleted, in one transaction.
  app.patch("/api/v2.0/controller/inventory", { bodyLimit: 32 * 1024 * 1024 }, async (request, reply) => {
    allow(request, "update");
    const body = jsonObjectBody(request);
    const items = (value: unknown, field: string) => {
      if (value === undefined) return [];
      if (!Array.isArray(value)) throw new HarborError("BAD_REQUEST", `${field} must be a list of {kind, key}`);
      return value.map((item, i) => {
        if (!isJsonObject(item)) throw new HarborError("BAD_REQUEST", `${field}[${i}] must be an object`);
        return { kind: text(item.kind, `${field}[${i}].kind`, 64), key: text(item.key, `${field}[${i}].key`), adopted: item.adopted === true };
      });
    };
    const add = items(body.add, "add");
    const remove = items(body.remove, "remove");
    await sql.transaction(async (tx) => {
      if (remove.length > 0) {
        await tx.query("DELETE FROM controller_inventory WHERE (kind, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))", [remove.map((r) => r.kind), remove.map((r) => r.key)]);
      }
      if (add.length > 0) {
        await tx.query(
          `INSERT INTO controller_inventory (kind, key, adopted)
           SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[]) ON CONFLICT DO NOTHING`,
          [add.map((r) => r.kind), add.map((r) => r.key), add.map((r) => r.adopted)],
        );
      }
    });
    return reply.code(200).send();
  });

  // Every membership of every project, paged: what drift detection reads instead of one request per project. A
  // group's carries its type and DN (Harbor's member entity does not), so that no group needs a request of its own.
  // Pages of up to CONTROLLER_PAGE_SIZE_MAX, cut from project_members alone (in id order, by the primary key) before
  // the joins: 10 000 memberships took 111 requests of 100, each joining and sorting all of them.
  app.get("/api/v2.0/controller/members", async (request, reply) => {
    allow(request, "read");
    const page = paging(request.query as Record<string, unknown>, CONTROLLER_PAGE_SIZE_MAX);
    // Memberships of a project, user or group that exists.
    const listed = `EXISTS (SELECT 1 FROM projects p WHERE p.id = m.project_id)
      AND ((m.entity_type = 'u' AND EXISTS (SELECT 1 FROM users u WHERE u.id = m.entity_id))
        OR (m.entity_type = 'g' AND EXISTS (SELECT 1 FROM user_groups g WHERE g.id = m.entity_id)))`;
    const [{ total }] = await sql.query<{ total: number }>(`SELECT count(*)::int AS total FROM project_members m WHERE ${listed}`);
    const rows = (
      await sql.query<Record<string, unknown>>(
        `SELECT m.id, p.name AS project, m.entity_id, m.entity_type, m.role_id, coalesce(u.username, g.group_name) AS entity_name, g.group_type, g.ldap_group_dn
           FROM (SELECT m.id, m.project_id, m.entity_id, m.entity_type, m.role_id FROM project_members m WHERE ${listed}
                  ORDER BY m.id LIMIT ${page.pageSize} OFFSET ${(page.page - 1) * page.pageSize}) m
           JOIN projects p ON p.id = m.project_id
           LEFT JOIN users u ON m.entity_type = 'u' AND u.id = m.entity_id
           LEFT JOIN user_groups g ON m.entity_type = 'g' AND g.id = m.entity_id
          ORDER BY m.id`,
      )
    ).map((row) =>
      row.entity_type === "u" ? { ...row, group_type: undefined, ldap_group_dn: undefined } : row,
    );
    setPageHeaders(request, reply, page, total);
    return rows;
  });

  // Taken (or renewed by its holder) when free or lapsed, 409 naming the holder otherwise; and only by the source that
  // manages this registry (the first one to apply claims it), 412 naming it otherwise unless `take_over` (audited).
  app.post("/api/v2.0/controller/lock", async (request) => {
    allow(request, "update");
    const body = jsonObjectBody(request);
    const holder = text(body.holder, "holder", 255);
    const source = sourceOf(body.source);
    const ttl = body.ttl_seconds ?? 300;
    if (!Number.isInteger(ttl) || (ttl as number) < 1 || (ttl as number) > 86_400) throw new HarborError("BAD_REQUEST", "ttl_seconds must be 1..86400");
    return sql.transaction(async (tx) => {
      let claim;
      try {
        claim = await claimSource(tx, source, body.take_over === true, `${principalName(request.principal)} (${holder})`);
      } catch (error) {
        if (error instanceof SourceConflict) throw new HarborError("PRECONDITION", error.message);
        throw error;
      }
      const [row] = await tx.query<{ holder: string; until: Date }>(
        `INSERT INTO controller_lock (name, holder, until) VALUES ('apply', $1, now() + make_interval(secs => $2))
         ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until
          WHERE controller_lock.holder = EXCLUDED.holder OR controller_lock.until < now()
         RETURNING holder, until`,
        [holder, ttl],
      );
      if (!row) {
        const [held] = await tx.query<{ holder: string; until: Date }>("SELECT holder, until FROM controller_lock WHERE name = 'apply'");
        throw new HarborError("CONFLICT", `another controller (${held?.holder ?? "unknown"}) is applying until ${held?.until.toISOString() ?? "soon"}`);
      }
      if (claim.outcome !== "same") {
        const description =
          claim.outcome === "taken-over"
            ? `controller source taken over: ${describeSource(claim.previous)} -> ${describeSource(source)}`
            : `controller source claimed: ${describeSource(source)}`;
        await audit.record(tx, { projectId: null, operation: claim.outcome === "claimed" ? "create" : "update", resourceType: "controller-source", resource: describeSource(source), description }, actorOf(request));
      }
      return { holder: row.holder, until: row.until, source_claim: claim.outcome };
    });
  });

  app.delete("/api/v2.0/controller/lock", async (request, reply) => {
    allow(request, "update");
    const holder = text((request.query as Record<string, unknown>).holder, "holder", 255);
    await sql.query("DELETE FROM controller_lock WHERE name = 'apply' AND holder = $1", [holder]);
    return reply.code(200).send();
  });

  app.get("/api/v2.0/controller/status", async (request) => {
    allow(request, "read");
    const [suspended] = await sql.query<{ value: { suspended: boolean; reason: string } }>("SELECT value FROM controller_flags WHERE name = 'suspend'");
    const [lock] = await sql.query<{ holder: string; until: Date }>("SELECT holder, until FROM controller_lock WHERE name = 'apply' AND until > now()");
    const watchers = await sql.query("SELECT name, status, updated_at FROM controller_watchers ORDER BY updated_at DESC LIMIT 20");
    return { suspended: suspended?.value.suspended ?? false, suspend_reason: suspended?.value.reason ?? "", lock: lock ?? null, source: await managingSource(sql), watchers };
  });

  // What a running watcher last saw (its source, revision, last error): `berth-controller status` shows it, so a
  // watcher that cannot apply (a missing branch, another managing source) is visible from the registry.
  app.put<{ Params: { name: string } }>("/api/v2.0/controller/watchers/:name", async (request, reply) => {
    allow(request, "update");
    const name = text(request.params.name, "name", 255);
    const body = jsonObjectBody(request);
    const status = JSON.stringify(body);
    if (status.length > 16 * 1024) throw new HarborError("BAD_REQUEST", "a watcher status is at most 16 KiB");
    await sql.query(
      "INSERT INTO controller_watchers (name, status) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET status = EXCLUDED.status, updated_at = now()",
      [name, status],
    );
    return reply.code(200).send();
  });

  app.put("/api/v2.0/controller/suspend", async (request, reply) => {
    allow(request, "update");
    const body = jsonObjectBody(request);
    if (typeof body.suspended !== "boolean") throw new HarborError("BAD_REQUEST", "suspended must be a boolean");
    const value = { suspended: body.suspended, reason: typeof body.reason === "string" ? body.reason.slice(0, 500) : "" };
    await sql.query(
      "INSERT INTO controller_flags (name, value) VALUES ('suspend', $1) ON CONFLICT (name) DO UPDATE SET value = $1, updated_at = now()",
      [JSON.stringify(value)],
    );
    return reply.code(200).send();
  });

  app.post("/api/v2.0/controller/runs", async (request, reply) => {
    allow(request, "update");
    const body = jsonObjectBody(request);
    const started = typeof body.started_at === "string" ? new Date(body.started_at) : new Date();
    if (Number.isNaN(started.getTime())) throw new HarborError("BAD_REQUEST", "started_at must be a time");
    try {
      const [row] = await sql.query<{ id: number }>(
        "INSERT INTO controller_runs (commit, trigger, result, changes, summary, started_at, source) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        [typeof body.commit === "string" ? body.commit.slice(0, 200) : "", body.trigger, body.result, Number.isInteger(body.changes) ? body.changes : 0, JSON.stringify(isJsonObject(body.summary) ? body.summary : {}), started, typeof body.source === "string" ? body.source.slice(0, 1024) : ""],
      );
      return reply.code(201).header("Location", `/api/v2.0/controller/runs/${row.id}`).send();
    } catch (error) {
      if ((error as { code?: string }).code === "23514") throw new HarborError("BAD_REQUEST", "trigger must be commit|schedule|manual and result success|failed|no-op|drift");
      throw error;
    }
  });

  app.get("/api/v2.0/controller/runs", async (request, reply) => {
    allow(request, "read");
    const page = paging(request.query as Record<string, unknown>);
    const [{ total }] = await sql.query<{ total: number }>("SELECT count(*)::int AS total FROM controller_runs");
    const rows = await sql.query(
      `SELECT id, commit, source, trigger, result, changes, summary, started_at, finished_at FROM controller_runs ORDER BY id DESC LIMIT ${page.pageSize} OFFSET ${(page.page - 1) * page.pageSize}`,
    );
    setPageHeaders(request, reply, page, total);
    return rows;
  });
}
