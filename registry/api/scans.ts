import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ArtifactStore } from "../artifacts/artifact-store";
import { actorOf, type AuditLog } from "../audit/audit-log";
import type { DistributionMetadata } from "../distribution/metadata";
import { parseAllowlist, type CveAllowlists } from "../scanning/allowlists";
import { VULNERABILITY_REPORT_MIME_TYPE } from "../scanning/report/harbor";
import { NotScannableError, ScanQueueFullError, type ScanService } from "../scanning/scan-service";
import type { ScanType } from "../scanning/scan-store";
import { artifactLookup, type ArtifactParams } from "./artifact-lookup";
import { HarborError } from "./errors";
import { isJsonObject } from "./params";
import { requireSystem, type ProjectAccessDeps } from "./project-access";

export interface ScanRouteDeps extends ProjectAccessDeps {
  artifacts: ArtifactStore;
  metadata: DistributionMetadata;
  scans: ScanService;
  allowlists: CveAllowlists;
  audit: AuditLog;
}

/** `{"scan_type": "vulnerability" | "sbom"}`; an empty body means a vulnerability scan, as in Harbor. */
function scanType(request: FastifyRequest): ScanType {
  const body = request.body;
  if (body === undefined || body === null || body === "") return "vulnerability";
  if (!isJsonObject(body)) throw new HarborError("BAD_REQUEST", 'the body must be a JSON object such as {"scan_type":"vulnerability"}');
  const type = body.scan_type ?? "vulnerability";
  if (type === "vulnerability" || type === "sbom") return type;
  throw new HarborError("BAD_REQUEST", `scan_type must be "vulnerability" or "sbom", got ${JSON.stringify(type).slice(0, 100)}`);
}

/**
 * Harbor's scan API: scanning artifacts and reading their reports, and the CVE allowlists (the scanners: scanners.ts)
 * (the project's is written through PUT /projects/{p}).
 */
export function registerScanRoutes(app: FastifyInstance, deps: ScanRouteDeps): void {
  const { scans } = deps;
  const { artifactFor } = artifactLookup(deps);
  const artifactPath = "/api/v2.0/projects/:nameOrId/repositories/:repo/artifacts/:reference";

  app.post<{ Params: ArtifactParams }>(`${artifactPath}/scan`, async (request, reply) => {
    const type = scanType(request);
    // Harbor guards SBOM generation with its own resource (the same roles hold it).
    const { project, repository, artifact } = await artifactFor(request, type === "sbom" ? "sbom" : "scan", "create");
    try {
      await scans.request(repository.name, artifact.digest, "MANUAL", { scanType: type });
    } catch (error) {
      if (error instanceof NotScannableError) throw new HarborError("BAD_REQUEST", error.message);
      if (error instanceof ScanQueueFullError) throw new HarborError("TOO_MANY_REQUEST", error.message);
      throw error;
    }
    deps.audit.queue(
      { projectId: project.id, operation: "create", resourceType: "scan", resource: `${repository.name}@${artifact.digest}`, description: `${type} scan requested` },
      actorOf(request),
    );
    return reply.code(202).send();
  });

  app.post<{ Params: ArtifactParams }>(`${artifactPath}/scan/stop`, async (request, reply) => {
    const type = scanType(request);
    const { project, repository, artifact } = await artifactFor(request, type === "sbom" ? "sbom" : "scan", "stop");
    if ((await scans.stop(repository.name, artifact.digest, type)) === 0) {
      throw new HarborError("BAD_REQUEST", `no scan of ${repository.name}@${artifact.digest} is queued or running`);
    }
    deps.audit.queue(
      { projectId: project.id, operation: "delete", resourceType: "scan", resource: `${repository.name}@${artifact.digest}`, description: "scan stopped" },
      actorOf(request),
    );
    return reply.code(202).send();
  });

  app.get<{ Params: ArtifactParams }>(`${artifactPath}/additions/vulnerabilities`, async (request) => {
    const { repository, artifact } = await artifactFor(request, "artifact-addition", "read");
    const report = await scans.report(repository.name, artifact.digest);
    return report ? { [VULNERABILITY_REPORT_MIME_TYPE]: report } : {};
  });

  // Any logged-in user may read the system allowlist (Harbor); only system admins write it.
  app.get("/api/v2.0/system/CVEAllowlist", async (request) => {
    if (request.principal.kind === "anonymous") throw new HarborError("UNAUTHORIZED", "log in to read the system CVE allowlist");
    return deps.allowlists.get(null);
  });

  app.put("/api/v2.0/system/CVEAllowlist", async (request, reply) => {
    requireSystem(request.principal, "configuration", "update");
    const list = parseAllowlist(request.body);
    if (typeof list === "string") throw new HarborError("BAD_REQUEST", list);
    const entry = { projectId: null, operation: "update", resourceType: "cve-allowlist", resource: "system" } as const;
    await deps.audit.change(actorOf(request), entry, (tx) => deps.allowlists.put(null, list, tx));
    return reply.code(200).send();
  });
}
