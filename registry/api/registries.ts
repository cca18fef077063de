import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditEntry, type AuditLog } from "../audit/audit-log";
import type { ActionName } from "../auth/rbac";
import type { Queryable } from "../db/sql";
import { REGISTRY_TYPES, type RegistryInput, type RegistryRow, type RegistryStore, type RegistryType } from "../replication/registries";
import { HarborError } from "./errors";
import { isJsonObject, jsonObjectBody, paging, queryString, setPageHeaders } from "./params";
import { requireSystem } from "./project-access";
import { parseQuery } from "./query";

interface RegistryRouteDeps {
  registries: RegistryStore;
  audit: AuditLog;
  /** What uses an endpoint (replication policies, proxy cache projects): it cannot be deleted while anything does. */
  usedBy: (registryId: number) => Promise<string[]>;
}

type Params = { id: string };
const NAME_MAX = 64;
const MASK = "*****";

/** An endpoint as the API shows it: the secret is masked, as Harbor does. */
function toApi(row: RegistryRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    type: row.type,
    url: row.url,
    credential: { type: row.credential_type, access_key: row.access_key, access_secret: row.access_secret ? MASK : "" },
    insecure: row.insecure,
    status: row.status,
    status_message: row.status_message,
    checked_time: row.checked_at,
    creation_time: row.created_at,
    update_time: row.updated_at,
  };
}

function bad(message: string): never {
  throw new HarborError("BAD_REQUEST", message);
}

function text(value: unknown, field: string, max = 1024): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.length > max || value.includes("\0")) bad(`${field} must be a string of at most ${max} characters`);
  return value;
}

function parseUrl(value: unknown): string {
  const url = text(value, "url");
  if (!url || !/^https?:\/\/[^/\s]+/.test(url)) bad("url must be an http:// or https:// URL");
  return url.replace(/\/+$/, "");
}

/**
 * Harbor's `Registry` (create) or flat `RegistryUpdate` (update) body, merged over `current`. A masked or absent
 * secret keeps the stored one.
 */
function parseRegistry(body: Record<string, unknown>, current?: RegistryRow): RegistryInput {
  const credential = isJsonObject(body.credential) ? body.credential : {};
  const name = text(body.name, "name", NAME_MAX) ?? current?.name;
  if (!name || !/^[\w.-]+$/.test(name)) bad(`name is required: letters, digits, "." "_" "-", at most ${NAME_MAX}`);
  const type = (body.type ?? current?.type ?? "docker-registry") as RegistryType;
  if (!REGISTRY_TYPES.includes(type)) bad(`type must be one of ${REGISTRY_TYPES.join(", ")} (any OCI registry works as docker-registry)`);
  if (body.insecure !== undefined && typeof body.insecure !== "boolean") bad("insecure must be a boolean");
  const secret = text(body.access_secret ?? credential.access_secret, "access_secret");
  return {
    name,
    type,
    description: text(body.description, "description") ?? current?.description ?? "",
    url: body.url === undefined && current ? current.url : parseUrl(body.url),
    credential_type: text(body.credential_type ?? credential.type, "credential.type") ?? current?.credential_type ?? "basic",
    access_key: text(body.access_key ?? credential.access_key, "access_key") ?? current?.access_key ?? "",
    access_secret: secret === undefined || secret === MASK ? (current?.access_secret ?? "") : secret,
    insecure: (body.insecure as boolean | undefined) ?? current?.insecure ?? false,
  };
}

function requireRegistry(request: FastifyRequest, action: ActionName): void {
  requireSystem(request.principal, "registry", action);
}

/** /api/v2.0/registries: the remote endpoints replication and proxy caches use (system admins). */
export function registerRegistryRoutes(app: FastifyInstance, deps: RegistryRouteDeps): void {
  const { registries } = deps;
  // Health is checked after the answer, never in it: an unreachable endpoint can still be saved (and fixed later).
  const checkLater = (id: number) => void registries.check(id).catch((error) => app.log.warn({ err: error }, "registry health check failed"));

  /** An endpoint whose address the outbound guard refuses is not saved (or pinged): 400 naming the address and rule. */
  const refuseGuarded = async (input: RegistryInput) => {
    const refusal = await registries.refusal(input.url);
    if (refusal !== null) bad(`url: ${refusal}`);
    return input;
  };

  const find = async (request: FastifyRequest<{ Params: Params }>, action: ActionName) => {
    requireRegistry(request, action);
    if (!/^\d{1,9}$/.test(request.params.id)) bad("registry id must be a positive integer");
    const row = await registries.get(Number(request.params.id));
    if (!row) throw new HarborError("NOT_FOUND", `registry ${request.params.id} not found`);
    return row;
  };

  async function audited<T>(request: FastifyRequest, operation: AuditEntry["operation"], name: string, change: (tx: Queryable) => Promise<T>) {
    return deps.audit.change(actorOf(request), { projectId: null, operation, resourceType: "registry", resource: name }, change);
  }

  app.get("/api/v2.0/registries", async (request, reply) => {
    requireRegistry(request, "list");
    const terms = parseQuery(queryString(request.query, "q"), ["name"]);
    const name = terms[0] && (terms[0].kind === "exact" || terms[0].kind === "fuzzy") ? terms[0].value : queryString(request.query, "name");
    const page = paging(request.query as Record<string, unknown>);
    const { rows, total } = await registries.list(name, page.pageSize, (page.page - 1) * page.pageSize);
    setPageHeaders(request, reply, page, total);
    return rows.map(toApi);
  });

  app.post("/api/v2.0/registries", async (request, reply) => {
    requireRegistry(request, "create");
    const input = await refuseGuarded(parseRegistry(jsonObjectBody(request)));
    const id = await audited(request, "create", input.name, (tx) => registries.create(input, tx));
    if (id === null) throw new HarborError("CONFLICT", `a registry named ${input.name} already exists`);
    checkLater(id);
    return reply.code(201).header("Location", `/api/v2.0/registries/${id}`).send();
  });

  app.get<{ Params: Params }>("/api/v2.0/registries/:id", async (request) => toApi(await find(request, "read")));

  app.put<{ Params: Params }>("/api/v2.0/registries/:id", async (request, reply) => {
    const current = await find(request, "update");
    const input = await refuseGuarded(parseRegistry(jsonObjectBody(request), current));
    try {
      await audited(request, "update", input.name, (tx) => registries.update(current.id, input, tx));
    } catch (error) {
      if ((error as { code?: string }).code === "23505") throw new HarborError("CONFLICT", `a registry named ${input.name} already exists`);
      throw error;
    }
    checkLater(current.id);
    return reply.code(200).send();
  });

  app.delete<{ Params: Params }>("/api/v2.0/registries/:id", async (request, reply) => {
    const current = await find(request, "delete");
    const users = await deps.usedBy(current.id);
    if (users.length > 0) throw new HarborError("PRECONDITION", `registry ${current.name} is in use by ${users.join(", ")}`);
    await audited(request, "delete", current.name, (tx) => registries.delete(current.id, tx));
    return reply.code(200).send();
  });

  // Harbor: ping a stored endpoint by id, or an unsaved one by url and credentials; 400 with the reason when it fails.
  app.post("/api/v2.0/registries/ping", async (request, reply) => {
    requireRegistry(request, "read");
    const body = jsonObjectBody(request);
    const stored = typeof body.id === "number" ? await registries.get(body.id) : null;
    if (typeof body.id === "number" && !stored) throw new HarborError("NOT_FOUND", `registry ${body.id} not found`);
    const endpoint = stored ?? (await refuseGuarded(parseRegistry({ name: "ping", ...body })));
    const problem = await registries.healthProblem(endpoint);
    if (problem) throw new HarborError("BAD_REQUEST", `the registry is unhealthy: ${problem}`);
    return reply.code(200).send();
  });

  app.get<{ Params: Params }>("/api/v2.0/registries/:id/info", async (request) => {
    const row = await find(request, "read");
    return {
      type: row.type,
      description: row.description,
      supported_resource_filters: [
        { type: "name", style: "input" },
        { type: "tag", style: "input" },
      ],
      supported_triggers: ["manual", "scheduled", "event_based"],
      supported_copy_by_chunk: false,
    };
  });

  app.get("/api/v2.0/replication/adapters", async (request) => {
    requireRegistry(request, "read");
    return REGISTRY_TYPES;
  });

  // Harbor's RegistryProviderInfo per type: what the endpoint and credential fields of a registry form take. Every
  // Berth type takes a free URL and a plain username/password (Harbor's "standard" patterns).
  app.get("/api/v2.0/replication/adapterinfos", async (request) => {
    requireRegistry(request, "read");
    const info = {
      endpoint_pattern: { endpoint_type: "EndpointPatternTypeStandard", endpoints: [] },
      credential_pattern: { access_key_type: "AccessKeyTypeStandard", access_key_data: "", access_secret_type: "AccessSecretTypeStandard", access_secret_data: "" },
    };
    return Object.fromEntries(REGISTRY_TYPES.map((type) => [type, info]));
  });
}
