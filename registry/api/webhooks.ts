import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditEntry, type AuditLog } from "../audit/audit-log";
import { isSysadmin, principalName, type Principal } from "../auth/principal";
import type { ActionName } from "../auth/rbac";
import type { Queryable } from "../db/sql";
import { EVENT_TYPES } from "../events/events";
import type { AttemptRow, DeliveryRow, WebhookOutbox } from "../notifications/outbox";
import { PAYLOAD_FORMATS } from "../notifications/payloads";
import { checkTargets, parsePolicy, PolicyError, type WebhookPolicies, type WebhookPolicy } from "../notifications/policies";
import type { OutboundGuard } from "../outbound/address-guard";
import type { ProjectRow } from "../projects/projects";
import { HarborError } from "./errors";
import { jsonObjectBody, paging, queryString, setPageHeaders } from "./params";
import { projectFor, type ProjectAccessDeps } from "./project-access";

export interface WebhookRouteDeps extends ProjectAccessDeps {
  webhookPolicies: WebhookPolicies;
  outbox: WebhookOutbox;
  audit: AuditLog;
  guard: OutboundGuard;
  /** BERTH_WEBHOOK_MAX_TARGETS. */
  maxTargets: number;
}

type ProjectParams = { nameOrId: string };
type PolicyParams = ProjectParams & { id: string };

/** A policy as the API shows it: auth headers and signing secrets are never returned. */
function toApi(policy: WebhookPolicy) {
  return {
    id: policy.id,
    name: policy.name,
    description: policy.description,
    project_id: policy.project_id,
    enabled: policy.enabled,
    event_types: policy.event_types,
    targets: policy.targets.map(({ type, address, skip_cert_verify, payload_format, auth_header, secret }) => ({
      type,
      address,
      skip_cert_verify,
      payload_format,
      auth_header: "",
      has_auth_header: auth_header !== "",
      has_secret: secret !== "",
    })),
    creator: policy.creator,
    creation_time: policy.created_at,
    update_time: policy.updated_at,
  };
}

/**
 * A failure as the caller may see it: the receiver's words (its answer body) only for system admins, since the
 * receiver can be any host a project admin named, and its answer is not theirs to read through this registry.
 */
function outcome(error: string, answer: string, principal: Principal): string {
  return answer !== "" && isSysadmin(principal) ? `${error}: ${answer}` : error;
}

function executionToApi(delivery: DeliveryRow, principal: Principal) {
  return {
    id: delivery.id,
    vendor_type: "WEBHOOK",
    vendor_id: delivery.policy_id,
    status: delivery.status,
    status_message: outcome(delivery.last_error, delivery.last_answer, principal),
    trigger: "EVENT",
    extra_attrs: { event_type: delivery.event_type, address: delivery.address },
    metrics: { attempts: delivery.attempts },
    start_time: delivery.created_at,
    end_time: delivery.finished_at,
  };
}

function taskToApi(attempt: AttemptRow, index: number, principal: Principal) {
  return {
    id: attempt.id,
    execution_id: attempt.delivery_id,
    status: attempt.error === "" ? "Success" : "Error",
    status_message: outcome(attempt.error, attempt.answer, principal),
    run_count: index + 1,
    extra_attrs: { status_code: attempt.status_code },
    creation_time: attempt.started_at,
    start_time: attempt.started_at,
    end_time: attempt.finished_at,
    update_time: attempt.finished_at,
  };
}

function numericParam(value: string, what: string): number {
  if (!/^\d{1,12}$/.test(value)) throw new HarborError("BAD_REQUEST", `${what} must be a positive integer`);
  return Number(value);
}

async function parseBody(request: FastifyRequest, deps: Pick<WebhookRouteDeps, "guard" | "maxTargets">, previous?: WebhookPolicy) {
  try {
    const input = parsePolicy(jsonObjectBody(request), deps.maxTargets, previous);
    await checkTargets(input, deps.guard);
    return input;
  } catch (error) {
    if (error instanceof PolicyError) throw new HarborError("BAD_REQUEST", error.message);
    throw error;
  }
}

/** /api/v2.0/projects/{p}/webhook/…: Harbor's webhook policies and their deliveries (permission notification-policy). */
export function registerWebhookRoutes(app: FastifyInstance, deps: WebhookRouteDeps): void {
  const { webhookPolicies: policies, outbox } = deps;
  const base = "/api/v2.0/projects/:nameOrId/webhook";
  const project = (request: FastifyRequest<{ Params: ProjectParams }>, action: ActionName) =>
    projectFor(deps, request, request.params.nameOrId, "notification-policy", action);

  const policyFor = async (request: FastifyRequest<{ Params: ProjectParams }>, action: ActionName, id = (request.params as PolicyParams).id) => {
    const target = await project(request, action);
    const policy = await policies.get(target.id, numericParam(id, "policy id"));
    if (!policy) throw new HarborError("NOT_FOUND", `webhook policy ${id} not found`);
    return { target, policy };
  };

  /** A policy change and its audit record in one transaction; then this node forgets the project's cached policies. */
  async function audited<T>(request: FastifyRequest, target: ProjectRow, operation: AuditEntry["operation"], name: string, change: (tx: Queryable) => Promise<T>) {
    const entry: AuditEntry = { projectId: target.id, operation, resourceType: "webhook-policy", resource: `${target.name}/${name}` };
    const result = await deps.audit.change(actorOf(request), entry, change);
    policies.forget(target.id);
    return result;
  }

  app.get<{ Params: ProjectParams }>(`${base}/events`, async (request) => {
    await project(request, "read");
    return { event_type: EVENT_TYPES, notify_type: ["http"], payload_formats: [{ notify_type: "http", formats: PAYLOAD_FORMATS }] };
  });

  app.get<{ Params: ProjectParams }>(`${base}/policies`, async (request, reply) => {
    const target = await project(request, "list");
    const page = paging(request.query as Record<string, unknown>);
    const { rows, total } = await policies.list(target.id, page.pageSize, (page.page - 1) * page.pageSize);
    setPageHeaders(request, reply, page, total);
    return rows.map(toApi);
  });

  app.post<{ Params: ProjectParams }>(`${base}/policies`, async (request, reply) => {
    const target = await project(request, "create");
    const input = await parseBody(request, deps);
    const id = await audited(request, target, "create", input.name, (tx) => policies.create(target.id, input, principalName(request.principal), tx));
    if (id === null) throw new HarborError("CONFLICT", `a webhook policy named ${input.name} already exists in ${target.name}`);
    return reply.code(201).header("Location", `/api/v2.0/projects/${request.params.nameOrId}/webhook/policies/${id}`).send();
  });

  app.get<{ Params: PolicyParams }>(`${base}/policies/:id`, async (request) => toApi((await policyFor(request, "read")).policy));

  app.put<{ Params: PolicyParams }>(`${base}/policies/:id`, async (request, reply) => {
    const { target, policy } = await policyFor(request, "update");
    const input = await parseBody(request, deps, policy);
    try {
      await audited(request, target, "update", input.name, (tx) => policies.update(target.id, policy.id, input, tx));
    } catch (error) {
      if ((error as { code?: string }).code === "23505") throw new HarborError("CONFLICT", `a webhook policy named ${input.name} already exists in ${target.name}`);
      throw error;
    }
    return reply.code(200).send();
  });

  app.delete<{ Params: PolicyParams }>(`${base}/policies/:id`, async (request, reply) => {
    const { target, policy } = await policyFor(request, "delete");
    await audited(request, target, "delete", policy.name, (tx) => policies.delete(target.id, policy.id, tx));
    return reply.code(200).send();
  });

  // Harbor's older (deprecated, still used) views: when each policy last fired per event type, and its jobs.
  app.get<{ Params: ProjectParams }>(`${base}/lasttrigger`, async (request) => {
    const target = await project(request, "read");
    return outbox.lastTriggers(target.id);
  });

  app.get<{ Params: ProjectParams }>(`${base}/jobs`, async (request, reply) => {
    const policyId = queryString(request.query, "policy_id");
    if (policyId === undefined) throw new HarborError("BAD_REQUEST", "policy_id is required");
    const { policy } = await policyFor(request, "list", policyId);
    const page = paging(request.query as Record<string, unknown>);
    const { rows, total } = await outbox.deliveries(policy.id, page.pageSize, (page.page - 1) * page.pageSize);
    setPageHeaders(request, reply, page, total);
    return rows.map((delivery) => ({
      id: delivery.id,
      policy_id: delivery.policy_id,
      event_type: delivery.event_type,
      notify_type: "http",
      status: delivery.status,
      job_detail: outcome(delivery.last_error, delivery.last_answer, request.principal),
      creation_time: delivery.created_at,
      update_time: delivery.finished_at ?? delivery.created_at,
    }));
  });

  app.get<{ Params: PolicyParams }>(`${base}/policies/:id/executions`, async (request, reply) => {
    const { policy } = await policyFor(request, "read");
    const page = paging(request.query as Record<string, unknown>);
    const { rows, total } = await outbox.deliveries(policy.id, page.pageSize, (page.page - 1) * page.pageSize);
    setPageHeaders(request, reply, page, total);
    return rows.map((row) => executionToApi(row, request.principal));
  });

  const deliveryFor = async (request: FastifyRequest<{ Params: PolicyParams & { eid: string } }>) => {
    const { policy } = await policyFor(request, "read");
    const delivery = await outbox.delivery(policy.id, numericParam(request.params.eid, "execution id"));
    if (!delivery) throw new HarborError("NOT_FOUND", `execution ${request.params.eid} not found`);
    return delivery;
  };

  app.get<{ Params: PolicyParams & { eid: string } }>(`${base}/policies/:id/executions/:eid/tasks`, async (request) => {
    const delivery = await deliveryFor(request);
    return (await outbox.attempts(delivery.id)).map((attempt, i) => taskToApi(attempt, i, request.principal));
  });

  app.get<{ Params: PolicyParams & { eid: string; tid: string } }>(`${base}/policies/:id/executions/:eid/tasks/:tid/log`, async (request, reply) => {
    const delivery = await deliveryFor(request);
    const attempt = (await outbox.attempts(delivery.id)).find((a) => a.id === numericParam(request.params.tid, "task id"));
    if (!attempt) throw new HarborError("NOT_FOUND", `task ${request.params.tid} not found`);
    const result = attempt.error === "" ? `delivered (${attempt.status_code})` : `failed: ${outcome(attempt.error, attempt.answer, request.principal)}`;
    return reply.type("text/plain; charset=utf-8").send(`${attempt.started_at.toISOString()} POST ${delivery.address} ${delivery.event_type}: ${result}\n`);
  });
}
