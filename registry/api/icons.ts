import type { FastifyInstance } from "fastify";
import { iconByDigest } from "../artifacts/icons";
import { HarborError } from "./errors";

/**
 * GET /api/v2.0/icons/{digest}: an artifact type's icon (Harbor's Icon). Open to every caller, anonymous included,
 * as in Harbor: the icons are Berth's own built-in pictures and say nothing about any project.
 */
export function registerIconRoutes(app: FastifyInstance): void {
  app.get<{ Params: { digest: string } }>("/api/v2.0/icons/:digest", async (request) => {
    const icon = iconByDigest(request.params.digest);
    if (!icon) throw new HarborError("NOT_FOUND", `no icon has digest ${request.params.digest.slice(0, 80)}`);
    return icon;
  });
}
