import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditLog } from "../audit/audit-log";
import type { ActionName } from "../auth/rbac";
import { principalName } from "../auth/principal";
import { REPLICATION_JOB } from "../replication/job";
import { parseReplicationPolicy, ReplicationPolicyError, type ReplicationPolicyInput } from "../replication/policy";
import type { RegistryRow, RegistryStore } from "../replication/registries";
import type { ReplicationStore, StoredReplicationPolicy, TaskCounts } from "../replication/store";
import type { ExecutionRow, ExecutionStatus, Trigger } from "../scheduler/executions";
import type { Scheduler } from "../scheduler/scheduler";
import type { Queryable } from "../db/sql";
import { HarborError } from "./errors";
import { jsonObjectBody, paging, queryString, setPageHeaders } from "./params";
import { requireSystem } from "./project-access";
import { parseQuery } from "./query";

export interface ReplicationRouteDeps {
  store: ReplicationStore;
  registries: RegistryStore;
  scheduler: Scheduler;
  audit: AuditLog;
  /** Told after a policy is created, changed or deleted (event triggers cache the policies). */
  policiesChanged: () => void;
}

type Params = { id: string };
type TaskParams = Params & { tid: string };

/** Event-based policies re-run in full this often, so a missed or failed event heals itself (minute = id % 60). */
export const reconcileCron = (policyId: number) => `0 ${policyId % 60} * * * *`;

// Harbor shows friendlier words than the job service's (HARBOR-MODEL §5.5).
const STATUS_TO_API: Record<ExecutionStatus, string> = { Running: "InProgress", Success: "Succeed", Error: "Failed", Stopped: "Stopped" };
const TRIGGER_TO_API: Record<Trigger, string> = { MANUAL: "manual", SCHEDULE: "scheduled", EVENT: "event_based" };
const invert = <K extends string, V extends string>(map: Record<K, V>) => Object.fromEntries(Object.entries(map).map(([k, v]) => [v, k])) as Record<V, K>;
const STATUS_FROM_API = invert(STATUS_TO_API);
const TRIGGER_FROM_API = invert(TRIGGER_TO_API);

function id(value: string, what: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new HarborError("BAD_REQUEST", `${what} must be a positive integer`);
  return Number(value);
}

/** The local side as Harbor shows it: a registry with id 0. */
const LOCAL_REGISTRY = { id: 0, name: "Local", type: "berth", url: "", description: "this registry", status: "healthy" };

function registryToApi(row: RegistryRow | null, registryId: number) {
  if (!row) return { id: registryId, name: "", type: "", url: "", description: "(deleted)", status: "unhealthy" };
  return { id: row.id, name: row.name, type: row.type, url: row.url, description: row.description, status: row.status, insecure: row.insecure };
}

function filtersToApi(policy: ReplicationPolicyInput) {
  const { name, tag, resource, label } = policy.filters;
  return [
    ...(name !== null ? [{ type: "name", value: name }] : []),
    ...(tag !== null ? [{ type: "tag", value: tag.pattern, decoration: tag.decoration }] : []),
    ...(resource !== null ? [{ type: "resource", value: resource }] : []),
    ...(label ? [{ type: "label", value: label.names, decoration: label.decoration }] : []),
  ];
}

function executionToApi(execution: ExecutionRow, counts: TaskCounts | undefined) {
  const tasks = counts ?? { total: 0, failed: 0, succeed: 0, in_progress: 0, stopped: 0 };
  return {
    id: execution.id,
    policy_id: execution.vendor_id,
    status: STATUS_TO_API[execution.status] ?? "",
    status_text: execution.status_message,
    trigger: TRIGGER_TO_API[execution.trigger] ?? "",
    start_time: execution.start_time,
    end_time: execution.end_time,
    ...tasks,
  };
}

/** /api/v2.0/replication/policies and /replication/executions: Harbor's replication, system level. */
export function registerReplicationRoutes(app: FastifyInstance, deps: ReplicationRouteDeps): void {
  const { store, registries, scheduler } = deps;

  async function policyToApi(stored: StoredReplicationPolicy) {
    const { policy } = stored;
    const side = async (registryId: number | null) => (registryId === null ? LOCAL_REGISTRY : registryToApi(await registries.get(registryId), registryId));
    return {
      id: stored.id,
      name: policy.name,
      description: policy.description,
      creator: stored.creator,
      src_registry: await side(policy.srcRegistryId),
      dest_registry: await side(policy.destRegistryId),
      dest_namespace: policy.destNamespace,
      dest_namespace_replace_count: policy.destNamespaceReplaceCount,
      trigger: { type: policy.trigger.type, trigger_settings: { cron: policy.trigger.cron } },
      filters: filtersToApi(policy),
      deletion: policy.deletion,
      replicate_deletion: policy.deletion,
      override: policy.override,
      enabled: policy.enabled,
      speed: policy.speed,
      copy_by_chunk: false,
      single_active_replication: false,
      creation_time: stored.created_at,
      update_time: stored.updated_at,
    };
  }

  async function parseBody(request: FastifyRequest): Promise<ReplicationPolicyInput> {
    let policy: ReplicationPolicyInput;
    try {
      policy = parseReplicationPolicy(jsonObjectBody(request));
    } catch (error) {
      if (error instanceof ReplicationPolicyError) throw new HarborError("BAD_REQUEST", error.message);
      throw error;
    }
    const registryId = (policy.srcRegistryId ?? policy.destRegistryId)!;
    if (!(await registries.get(registryId))) throw new HarborError("BAD_REQUEST", `registry ${registryId} not found`);
    return policy;
  }

  /** Scheduled policies run on their cron; event-based ones reconcile hourly; disabled and manual ones never. */
  async function schedule(policyId: number, policy: ReplicationPolicyInput): Promise<void> {
    deps.policiesChanged();
    const cron = !policy.enabled ? null : policy.trigger.type === "scheduled" ? policy.trigger.cron : policy.trigger.type === "event_based" ? reconcileCron(policyId) : null;
    await scheduler.setSchedule(REPLICATION_JOB, policyId, cron);
  }

  async function find(request: FastifyRequest<{ Params: Params }>, action: ActionName): Promise<StoredReplicationPolicy> {
    requireSystem(request.principal, "replication-policy", action);
    const stored = await store.get(id(request.params.id, "policy id"));
    if (!stored) throw new HarborError("NOT_FOUND", `replication policy ${request.params.id} not found`);
    return stored;
  }

  const audited = <T>(request: FastifyRequest, operation: "create" | "update" | "delete", name: string, change: (tx: Queryable) => Promise<T>) =>
    deps.audit.change(actorOf(request), { projectId: null, operation, resourceType: "replication-policy", resource: name }, change);

  app.get("/api/v2.0/replication/policies", async (request, reply) => {
    requireSystem(request.principal, "replication-policy", "list");
    const terms = parseQuery(queryString(request.query, "q"), ["name"]);
    const name = terms[0] && (terms[0].kind === "exact" || terms[0].kind === "fuzzy") ? terms[0].value : queryString(request.query, "name");
    const page = paging(request.query as Record<string, unknown>);
    const { rows, total } = await store.list(name, page.pageSize, (page.page - 1) * page.pageSize);
    setPageHeaders(request, reply, page, total);
    return Promise.all(rows.map(policyToApi));
  });

  app.post("/api/v2.0/replication/policies", async (request, reply) => {
    requireSystem(request.principal, "replication-policy", "create");
    const policy = await parseBody(request);
    const created = await audited(request, "create", policy.name, (tx) => store.create(policy, principalName(request.principal), tx));
    if (created === null) throw new HarborError("CONFLICT", `a replication policy named ${policy.name} already exists`);
    await schedule(created, policy);
    return reply.code(201).header("Location", `/api/v2.0/replication/policies/${created}`).send();
  });

  app.get<{ Params: Params }>("/api/v2.0/replication/policies/:id", async (request) => policyToApi(await find(request, "read")));

  app.put<{ Params: Params }>("/api/v2.0/replication/policies/:id", async (request, reply) => {
    const stored = await find(request, "update");
    const policy = await parseBody(request);
    try {
      await audited(request, "update", policy.name, (tx) => store.update(stored.id, policy, tx));
    } catch (error) {
      if ((error as { code?: string }).code === "23505") throw new HarborError("CONFLICT", `a replication policy named ${policy.name} already exists`);
      throw error;
    }
    await schedule(stored.id, policy);
    return reply.code(200).send();
  });

  app.delete<{ Params: Params }>("/api/v2.0/replication/policies/:id", async (request, reply) => {
    const stored = await find(request, "delete");
    const running = await scheduler.executions.list(REPLICATION_JOB, stored.id, 1, 0, { status: "Running" });
    if (running.total > 0) throw new HarborError("PRECONDITION", `replication policy ${stored.id} has a running execution; stop it first`);
    await audited(request, "delete", stored.policy.name, (tx) => store.delete(stored.id, REPLICATION_JOB, tx));
    await scheduler.setSchedule(REPLICATION_JOB, stored.id, null);
    deps.policiesChanged();
    return reply.code(200).send();
  });

  async function findExecution(request: FastifyRequest<{ Params: Params }>, action: ActionName): Promise<ExecutionRow> {
    requireSystem(request.principal, "replication", action);
    const execution = await scheduler.executions.get(id(request.params.id, "execution id"));
    if (!execution || execution.vendor_type !== REPLICATION_JOB) throw new HarborError("NOT_FOUND", `execution ${request.params.id} not found`);
    return execution;
  }

  app.post("/api/v2.0/replication/executions", async (request, reply) => {
    requireSystem(request.principal, "replication", "create");
    const body = jsonObjectBody(request);
    if (!Number.isInteger(body.policy_id)) throw new HarborError("BAD_REQUEST", "policy_id is required");
    const stored = await store.get(body.policy_id as number);
    if (!stored) throw new HarborError("NOT_FOUND", `replication policy ${body.policy_id} not found`);
    if (!stored.policy.enabled) throw new HarborError("PRECONDITION", `the policy ${stored.id} is disabled`);
    const execution = await scheduler.run(REPLICATION_JOB, stored.id, "MANUAL");
    return reply.code(201).header("Location", `/api/v2.0/replication/executions/${execution}`).send();
  });

  app.get("/api/v2.0/replication/executions", async (request, reply) => {
    requireSystem(request.principal, "replication", "list");
    const query = request.query as Record<string, unknown>;
    const policyId = queryString(query, "policy_id");
    const status = queryString(query, "status");
    const trigger = queryString(query, "trigger");
    if (status !== undefined && !(status in STATUS_FROM_API)) throw new HarborError("BAD_REQUEST", `status must be one of ${Object.keys(STATUS_FROM_API).join(", ")}`);
    if (trigger !== undefined && !(trigger in TRIGGER_FROM_API)) throw new HarborError("BAD_REQUEST", `trigger must be one of ${Object.keys(TRIGGER_FROM_API).join(", ")}`);
    const page = paging(query);
    await store.settleOrphans();
    const { rows, total } = await scheduler.executions.list(REPLICATION_JOB, policyId === undefined ? null : id(policyId, "policy_id"), page.pageSize, (page.page - 1) * page.pageSize, {
      status: status === undefined ? undefined : STATUS_FROM_API[status],
      trigger: trigger === undefined ? undefined : TRIGGER_FROM_API[trigger],
    });
    const counts = await store.counts(rows.map((r) => r.id));
    setPageHeaders(request, reply, page, total);
    return rows.map((row) => executionToApi(row, counts.get(row.id)));
  });

  app.get<{ Params: Params }>("/api/v2.0/replication/executions/:id", async (request) => {
    const execution = await findExecution(request, "read");
    await store.settleOrphans();
    return executionToApi(execution, (await store.counts([execution.id])).get(execution.id));
  });

  // Harbor: PUT on an execution stops it.
  app.put<{ Params: Params }>("/api/v2.0/replication/executions/:id", async (request, reply) => {
    const execution = await findExecution(request, "update");
    if (!(await scheduler.requestStop(execution.id))) throw new HarborError("PRECONDITION", `execution ${execution.id} is not running`);
    return reply.code(200).send();
  });

  app.get<{ Params: Params }>("/api/v2.0/replication/executions/:id/tasks", async (request, reply) => {
    const execution = await findExecution(request, "list");
    await store.settleOrphans();
    const query = request.query as Record<string, unknown>;
    const page = paging(query);
    const { rows, total } = await store.tasks(
      execution.id,
      { status: queryString(query, "status"), resourceType: queryString(query, "resource_type") },
      page.pageSize,
      (page.page - 1) * page.pageSize,
    );
    setPageHeaders(request, reply, page, total);
    return rows.map((task) => ({ ...task, job_id: `${execution.id}-${task.id}` }));
  });

  app.get<{ Params: TaskParams }>("/api/v2.0/replication/executions/:id/tasks/:tid/log", async (request, reply) => {
    const execution = await findExecution(request, "read");
    const task = await store.task(execution.id, id(request.params.tid, "task id"));
    if (!task) throw new HarborError("NOT_FOUND", `task ${request.params.tid} not found`);
    return reply.type("text/plain; charset=utf-8").send(task.log);
  });
}
