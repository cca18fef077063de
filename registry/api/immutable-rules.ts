import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditEntry, type AuditLog } from "../audit/audit-log";
import type { ActionName } from "../auth/rbac";
import type { Queryable } from "../db/sql";
import { parseRuleBody, RuleError, type ImmutableRule, type ImmutableRules, type RuleInput } from "../policy/immutable-rules";
import type { ProjectRow } from "../projects/projects";
import { HarborError } from "./errors";
import { jsonObjectBody, paging, setPageHeaders } from "./params";
import { projectFor, type ProjectAccessDeps } from "./project-access";

export interface ImmutableRuleRouteDeps extends ProjectAccessDeps {
  immutableRules: ImmutableRules;
  audit: AuditLog;
}

type Params = { nameOrId: string; id: string };

function toApi(rule: ImmutableRule) {
  return {
    id: rule.id,
    project_id: rule.project_id,
    priority: rule.priority,
    disabled: rule.disabled,
    action: "immutable",
    template: "immutable_template",
    params: {},
    tag_selectors: rule.tag_selectors,
    scope_selectors: rule.scope_selectors,
  };
}

function parseRule(request: FastifyRequest): RuleInput {
  try {
    return parseRuleBody(jsonObjectBody(request));
  } catch (error) {
    if (error instanceof RuleError) throw new HarborError("BAD_REQUEST", error.message);
    throw error;
  }
}

function ruleId(request: FastifyRequest<{ Params: Params }>): number {
  if (!/^\d{1,9}$/.test(request.params.id)) throw new HarborError("BAD_REQUEST", "rule id must be a positive integer");
  return Number(request.params.id);
}

/** /api/v2.0/projects/{p}/immutabletagrules: Harbor's immutable tag rules (projectAdmin and maintainer manage them). */
export function registerImmutableRuleRoutes(app: FastifyInstance, deps: ImmutableRuleRouteDeps): void {
  const { immutableRules: rules } = deps;
  const base = "/api/v2.0/projects/:nameOrId/immutabletagrules";
  const project = (request: FastifyRequest<{ Params: { nameOrId: string } }>, action: ActionName) =>
    projectFor(deps, request, request.params.nameOrId, "immutable-tag", action);

  /** Runs a rule change and its audit record in one transaction, then drops this node's cached rules. */
  async function audited<T>(request: FastifyRequest, target: ProjectRow, operation: AuditEntry["operation"], description: string, change: (tx: Queryable) => Promise<T>) {
    const entry: AuditEntry = { projectId: target.id, operation, resourceType: "immutable-tag-rule", resource: target.name, description };
    const result = await deps.audit.change(actorOf(request), entry, change);
    rules.forget(target.id);
    return result;
  }

  app.get<{ Params: { nameOrId: string } }>(base, async (request, reply) => {
    const target = await project(request, "list");
    const page = paging(request.query as Record<string, unknown>);
    const { rows, total } = await rules.list(target.id, page.pageSize, (page.page - 1) * page.pageSize);
    setPageHeaders(request, reply, page, total);
    return rows.map(toApi);
  });

  app.post<{ Params: { nameOrId: string } }>(base, async (request, reply) => {
    const target = await project(request, "create");
    const rule = parseRule(request);
    const id = await audited(request, target, "create", `create immutable tag rule in ${target.name}`, (tx) => rules.create(target.id, rule, tx));
    if (id === null) throw new HarborError("CONFLICT", "immutable rule already exists");
    return reply.code(201).header("Location", `/api/v2.0/projects/${request.params.nameOrId}/immutabletagrules/${id}`).send();
  });

  app.put<{ Params: Params }>(`${base}/:id`, async (request, reply) => {
    const target = await project(request, "update");
    const id = ruleId(request);
    const body = jsonObjectBody(request);
    if (body.id !== undefined && body.id !== id) throw new HarborError("BAD_REQUEST", `the rule id in the body (${String(body.id)}) must match the path (${id})`);
    const rule = parseRule(request);
    // The audit record is written only when the rule changed; the outcome says why it did not.
    const result = { outcome: "missing" as Awaited<ReturnType<ImmutableRules["update"]>> };
    await audited(request, target, "update", `update immutable tag rule #${id} in ${target.name}`, async (tx) => {
      result.outcome = await rules.update(target.id, id, rule, tx);
      return result.outcome === "updated";
    });
    const { outcome } = result;
    if (outcome === "missing") throw new HarborError("NOT_FOUND", `immutable tag rule ${id} not found`);
    if (outcome === "duplicate") throw new HarborError("CONFLICT", "immutable rule already exists");
    return reply.code(200).send();
  });

  app.delete<{ Params: Params }>(`${base}/:id`, async (request, reply) => {
    const target = await project(request, "delete");
    const id = ruleId(request);
    const deleted = await audited(request, target, "delete", `delete immutable tag rule #${id} in ${target.name}`, (tx) => rules.delete(target.id, id, tx));
    if (!deleted) throw new HarborError("NOT_FOUND", `immutable tag rule ${id} not found`);
    return reply.code(200).send();
  });
}
