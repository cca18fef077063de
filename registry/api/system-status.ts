import { readFile, statfs } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { HarborError } from "./errors";
import { requireSystem } from "./project-access";

export interface SystemStatusRouteDeps {
  /** The directory blobs are stored under (filesystem storage); null when blobs live elsewhere (S3). */
  volumePath: string | null;
  /** BERTH_TLS_CA_FILE: the CA certificate clients should trust, when one is configured. */
  caFile?: string;
}

/**
 * GET /api/v2.0/ping ("Pong", to anyone, as Harbor), /systeminfo/volumes (system-volumes:read: free and total bytes
 * of the filesystem blobs are stored on; an empty list for S3 storage, which has no such numbers) and
 * /systeminfo/getcert (the CA certificate to anyone, as Harbor: it is public; 404 without one).
 */
export function registerSystemStatusRoutes(app: FastifyInstance, deps: SystemStatusRouteDeps): void {
  app.get("/api/v2.0/ping", async (_request, reply) => reply.type("text/plain; charset=utf-8").send("Pong"));

  app.get("/api/v2.0/systeminfo/volumes", async (request) => {
    requireSystem(request.principal, "system-volumes", "read");
    if (deps.volumePath === null) return { storage: [] };
    const stats = await statfs(deps.volumePath);
    return { storage: [{ total: stats.blocks * stats.bsize, free: stats.bavail * stats.bsize }] };
  });

  app.get("/api/v2.0/systeminfo/getcert", async (_request, reply) => {
    if (!deps.caFile) throw new HarborError("NOT_FOUND", "no CA certificate is configured (BERTH_TLS_CA_FILE)");
    // Read at each request: a renewed CA file is served without a restart.
    const cert = await readFile(deps.caFile);
    return reply.type("application/octet-stream").header("Content-Disposition", 'attachment; filename="ca.crt"').send(cert);
  });
}
