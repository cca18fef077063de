import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { VULNERABILITY_QUERY_KEYS, type SecurityHub } from "../scanning/security-hub";
import { HarborError } from "./errors";
import { paging, queryString, setPageHeaders } from "./params";
import { requireSystem } from "./project-access";
import { parseQuery } from "./query";

function flag(query: unknown, key: string): boolean {
  const value = queryString(query, key);
  if (value === undefined || value === "" || value === "false") return false;
  if (value === "true") return true;
  throw new HarborError("BAD_REQUEST", `${key} must be true or false`);
}

/**
 * Harbor's security hub (2.9+): the scanned artifacts' vulnerabilities across all projects, for system admins.
 * Harbor serves it at /security/summary and /security/vul; /vulnerabilities/summary and /vulnerabilities answer alike.
 */
export function registerSecurityHubRoutes(app: FastifyInstance, deps: { hub: SecurityHub }): void {
  const summary = async (request: FastifyRequest) => {
    requireSystem(request.principal, "security-hub", "read");
    return deps.hub.summary({
      withDangerousCves: flag(request.query, "with_dangerous_cve"),
      withDangerousArtifacts: flag(request.query, "with_dangerous_artifact"),
    });
  };
  app.get("/api/v2.0/security/summary", summary);
  app.get("/api/v2.0/vulnerabilities/summary", summary);

  const list = async (request: FastifyRequest, reply: FastifyReply) => {
    requireSystem(request.principal, "security-hub", "list");
    const page = paging(request.query as Record<string, unknown>);
    const terms = parseQuery(queryString(request.query, "q"), VULNERABILITY_QUERY_KEYS);
    // project_id is a number in Harbor's q (a text filter would let a typo match nothing silently).
    for (const term of terms) {
      if (term.key === "project_id" && term.kind === "exact" && !/^\d{1,9}$/.test(term.value)) throw new HarborError("BAD_REQUEST", "project_id must be a number");
    }
    const { rows, total } = await deps.hub.list(terms, page.pageSize, (page.page - 1) * page.pageSize, {
      tuneCount: flag(request.query, "tune_count"),
      withTags: flag(request.query, "with_tag"),
    });
    setPageHeaders(request, reply, page, total);
    return rows;
  };
  app.get("/api/v2.0/security/vul", list);
  app.get("/api/v2.0/vulnerabilities", list);
}
