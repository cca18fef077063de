import { Readable } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditLog } from "../audit/audit-log";
import type { Sql } from "../db/sql";
import type { Scheduler } from "../scheduler/scheduler";
import { VulnDbInputError, type InputKind } from "../scanning/vulndb/reader";
import { spool, TooLargeError } from "../scanning/vulndb/spool";
import type { VulnDb } from "../scanning/vulndb/store";
import { VULNDB_SYNC_JOB, VULNDB_SYNC_VENDOR_ID } from "../scanning/vulndb/sync";
import { HarborError } from "./errors";
import { requireSystem } from "./project-access";

interface VulnDbRouteDeps {
  sql: Sql;
  vulndb: VulnDb;
  audit: AuditLog;
  scheduler: Scheduler;
  /** Where uploads are written before they are read. */
  spoolDir: string;
  maxZipBytes: number;
  maxJsonBytes: number;
  /** The mirror sync's settings; null when no mirror is configured (BERTH_VULNDB_URL unset). */
  sync: { schedule: string; ecosystems: string[] } | null;
}

const ZIP_TYPES = ["application/zip", "application/x-zip-compressed"];
const JSON_TYPE = "application/json";
const DEFAULT_SOURCE = "upload";

function kindOf(request: FastifyRequest): InputKind {
  const type = (request.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (ZIP_TYPES.includes(type)) return "zip";
  if (type === JSON_TYPE) return "json";
  throw new HarborError("UNSUPPORTED_MEDIA_TYPE", `send an OSV all.zip as application/zip, or a record or an array of records as application/json; got "${type.slice(0, 100)}"`);
}

function sourceOf(request: FastifyRequest): string {
  const source = (request.query as Record<string, unknown>).source;
  if (source === undefined || source === "") return DEFAULT_SOURCE;
  if (typeof source !== "string" || source.length > 200 || /[\x00-\x1f\x7f]/.test(source)) {
    throw new HarborError("BAD_REQUEST", "source must be a name of at most 200 printable characters");
  }
  return source;
}

/** /api/v2.0/vulndb: import OSV records, the database's status, a sync now (system admins; system resource "scanner"). */
export function registerVulnDbRoutes(app: FastifyInstance, deps: VulnDbRouteDeps): void {
  // An all.zip may be gigabytes and a JSON array large: the body reaches the handler as a stream (in this scope only).
  void app.register(async (scope) => {
    scope.addContentTypeParser([...ZIP_TYPES, JSON_TYPE], (_request, payload, done) => done(null, payload));

    scope.post("/api/v2.0/vulndb/import", async (request, reply) => {
      requireSystem(request.principal, "scanner", "create");
      const kind = kindOf(request);
      const source = sourceOf(request);
      const maxBytes = kind === "zip" ? deps.maxZipBytes : deps.maxJsonBytes;
      const variable = kind === "zip" ? "BERTH_VULNDB_MAX_ZIP_BYTES" : "BERTH_VULNDB_MAX_JSON_BYTES";
      if (Number(request.headers["content-length"] ?? 0) > maxBytes) {
        throw new HarborError("REQUEST_ENTITY_TOO_LARGE", `the body is larger than ${maxBytes} bytes (${variable})`);
      }
      let spooled;
      try {
        // No body at all reaches here as undefined: read as empty, it is refused as not a zip or not JSON.
        spooled = await spool(deps.spoolDir, (request.body as Readable | undefined) ?? Readable.from([]), maxBytes, `the body (${variable})`, kind === "zip" ? "all.zip" : "records.json");
      } catch (error) {
        if (error instanceof TooLargeError) throw new HarborError("REQUEST_ENTITY_TOO_LARGE", error.message);
        throw error;
      }
      let result;
      try {
        result = await deps.vulndb.importPath(spooled.file, source, kind);
      } catch (error) {
        if (error instanceof VulnDbInputError) throw new HarborError("BAD_REQUEST", `nothing was imported: ${error.message.replace(/^(all\.zip|records\.json)\b/, "the body")}`);
        throw error;
      } finally {
        await spooled.remove();
      }
      await deps.audit.record(
        deps.sql,
        {
          projectId: null,
          operation: "create",
          resourceType: "vulnerability-database",
          resource: source,
          description: `import ${kind === "zip" ? "an OSV zip" : "OSV JSON"} as "${source}": ${result.imported} imported, ${result.skipped} skipped, ${result.invalid} invalid`,
        },
        actorOf(request),
      );
      return reply.code(result.imported > 0 ? 201 : 200).send(result);
    });
  });

  app.get("/api/v2.0/vulndb", async (request) => {
    requireSystem(request.principal, "scanner", "read");
    return { ...(await deps.vulndb.status()), sync: deps.sync };
  });

  // Runs the mirror sync now (in the background): its execution is answered in Location.
  app.post("/api/v2.0/vulndb/sync", async (request, reply) => {
    requireSystem(request.principal, "scanner", "create");
    if (!deps.sync) throw new HarborError("PRECONDITION", "no mirror is configured: set BERTH_VULNDB_URL to sync");
    const id = await deps.scheduler.run(VULNDB_SYNC_JOB, VULNDB_SYNC_VENDOR_ID, "MANUAL");
    await deps.audit.record(deps.sql, { projectId: null, operation: "create", resourceType: "vulnerability-database", resource: "sync", description: `sync the vulnerability database (execution ${id})` }, actorOf(request));
    return reply.code(202).send({ execution_id: id });
  });
}
