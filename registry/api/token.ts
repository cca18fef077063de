import type { FastifyInstance } from "fastify";
import { canSystem, type ActionName } from "../auth/rbac";
import { TOKEN_SERVICE, parseScopes, type TokenAccess, type TokenService } from "../auth/token-service";
import { isValidRepositoryName } from "../distribution/names";
import { HarborError } from "./errors";
import type { ProjectAccessDeps } from "./project-access";

// Token actions and the repository permission each one stands for (Harbor §10.2).
const REPOSITORY_ACTIONS: [string, ActionName][] = [
  ["pull", "pull"],
  ["push", "push"],
  ["delete", "delete"],
];

function queryValues(query: unknown, key: string): string[] {
  const value = (query as Record<string, unknown>)[key];
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  if (values.some((v) => typeof v !== "string" || v.includes("\0"))) throw new HarborError("BAD_REQUEST", `${key} is malformed`);
  return values as string[];
}

/**
 * GET /service/token: the Docker/OCI token endpoint. Like Harbor, it ignores the actions asked for and grants, per
 * repository, every action the caller's roles allow (so a client asking for pull learns it may also push).
 */
export function registerTokenRoutes(app: FastifyInstance, deps: ProjectAccessDeps & { tokens: TokenService }): void {
  app.get("/service/token", async (request) => {
    const [service] = queryValues(request.query, "service");
    if (service !== undefined && service !== TOKEN_SERVICE) throw new HarborError("BAD_REQUEST", `unknown service ${service}; this registry is "${TOKEN_SERVICE}"`);
    if (request.tokenAccess !== null) throw new HarborError("UNAUTHORIZED", "log in with Basic credentials to get a token");
    const principal = request.principal;
    // On the registry mirror, scopes name upstream paths: the token names the mirror's proxy project's repositories.
    const asked = parseScopes(queryValues(request.query, "scope"));
    const scopes = request.mirror ? request.mirror.scopes(asked) : asked;
    if (principal.kind === "anonymous" && scopes.length === 0) throw new HarborError("UNAUTHORIZED", "authentication required");

    const access: TokenAccess[] = [];
    for (const scope of scopes) {
      let actions: string[] = [];
      if (scope.type === "repository" && isValidRepositoryName(scope.name) && scope.name.includes("/")) {
        const project = await deps.projects.findRefByName(scope.name.slice(0, scope.name.indexOf("/")));
        if (project) {
          for (const [tokenAction, permission] of REPOSITORY_ACTIONS) {
            if (await deps.authorizer.allows(principal, project, "repository", permission)) actions.push(tokenAction);
          }
        }
      } else if (scope.type === "registry" && scope.name === "catalog") {
        // Harbor keeps the requested actions for system admins and empties them for everyone else.
        actions = canSystem(principal, "catalog", "read") ? scope.actions : [];
      }
      access.push({ type: scope.type, name: scope.name, actions });
    }
    const { token, issuedAt } = deps.tokens.issue(principal, access);
    return { token, access_token: token, expires_in: deps.tokens.ttlSeconds, issued_at: issuedAt.toISOString() };
  });

  app.post("/service/token", async () => {
    throw new HarborError("METHOD_NOT_ALLOWED", "use GET /service/token");
  });
}
