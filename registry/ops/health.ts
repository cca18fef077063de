import type { FastifyInstance } from "fastify";
import type { Sql } from "../db/sql";
import type { BlobStore } from "../storage/blob-store";

type ComponentStatus = { name: string; status: "healthy" | "unhealthy"; error?: string };

async function check(name: string, probe: () => Promise<unknown>): Promise<ComponentStatus> {
  try {
    await probe();
    return { name, status: "healthy" };
  } catch (error) {
    return { name, status: "unhealthy", error: (error as Error).message };
  }
}

/** `GET /api/v2.0/health` in Harbor's shape (metrics have their own listener: metrics-listener.ts). */
export function registerOpsRoutes(app: FastifyInstance, deps: { sql: Sql; store: BlobStore }): void {
  app.get("/api/v2.0/health", async (_request, reply) => {
    const components = await Promise.all([
      check("database", () => deps.sql.query("SELECT 1")),
      check("storage", () => deps.store.ping()),
    ]);
    const healthy = components.every((c) => c.status === "healthy");
    return reply.code(healthy ? 200 : 503).send({ status: healthy ? "healthy" : "unhealthy", components });
  });
}
