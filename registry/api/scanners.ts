import type { FastifyInstance, FastifyRequest } from "fastify";
import { actorOf, type AuditLog } from "../audit/audit-log";
import type { ActionName } from "../auth/rbac";
import { ADAPTER_AUTH_TYPES, RegistrationConflictError, type AdapterAuthType, type RegistrationInput, type ScannerRegistration, type ScannerRegistrations } from "../scanning/adapter/registrations";
import { AdapterError } from "../scanning/adapter/adapter-client";
import { SCANNABLE_MANIFESTS } from "../scanning/adapter/protocol";
import { infoOf, type ScannerDirectory } from "../scanning/adapter/scanner-directory";
import { VULNERABILITY_REPORT_MIME_TYPE } from "../scanning/report/harbor";
import { CYCLONEDX_MEDIA_TYPE } from "../scanning/sbom/cyclonedx";
import { EMBEDDED_SCANNER_UUID, type ScanService } from "../scanning/scan-service";
import { HarborError } from "./errors";
import { isJsonObject, jsonObjectBody, paging, setPageHeaders } from "./params";
import { projectFor, requireSystem, type ProjectAccessDeps } from "./project-access";

export interface ScannerRouteDeps extends ProjectAccessDeps {
  scans: ScanService;
  registrations: ScannerRegistrations;
  directory: ScannerDirectory;
  audit: AuditLog;
}

const NAME_MAX = 255;

function bad(message: string): never {
  throw new HarborError("BAD_REQUEST", message);
}

function text(body: Record<string, unknown>, field: string, max = 1024): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.length > max || value.includes("\0")) bad(`${field} must be a string of at most ${max} characters`);
  return value;
}

function flag(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") bad(`${field} must be a boolean`);
  return value;
}

/**
 * Harbor's ScannerRegistrationReq (create), or one merged over `current` (update): an absent access_credential
 * keeps the stored one (it is write-only, so a client cannot send it back).
 */
function parseRegistration(body: Record<string, unknown>, current?: ScannerRegistration): RegistrationInput {
  const name = (text(body, "name", NAME_MAX) ?? current?.name ?? "").trim();
  if (!name) bad("name is required");
  const url = text(body, "url", 2048) ?? current?.url;
  if (!url) bad("url is required");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    bad(`url ${JSON.stringify(url.slice(0, 200))} is not a valid URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") bad("url must be an http:// or https:// URL");
  if (parsed.username || parsed.password || parsed.search || parsed.hash) bad("url must not carry credentials, a query or a fragment (use auth and access_credential)");
  const auth = (text(body, "auth", 64) ?? current?.auth ?? "") as AdapterAuthType;
  if (!ADAPTER_AUTH_TYPES.includes(auth)) bad(`auth ${JSON.stringify(auth)} is not supported: use "", "Basic", "Bearer" or "X-ScannerAdapter-API-Key"`);
  const credential = text(body, "access_credential", 4096) ?? (auth === current?.auth ? current.access_credential : undefined) ?? "";
  if (auth !== "" && credential === "") bad(`access_credential is required for auth ${auth}`);
  if (auth === "Basic" && !credential.includes(":")) bad('access_credential of Basic auth must be "username:password"');
  if (/[\r\n]/.test(credential)) bad("access_credential must be one line");
  return {
    name,
    description: text(body, "description") ?? current?.description ?? "",
    url: url.replace(/\/+$/, ""),
    auth,
    access_credential: auth === "" ? "" : credential,
    skip_cert_verify: flag(body, "skip_certVerify") ?? current?.skip_cert_verify ?? false,
    use_internal_addr: flag(body, "use_internal_addr") ?? current?.use_internal_addr ?? false,
    disabled: flag(body, "disabled") ?? current?.disabled ?? false,
  };
}

/** Harbor's ScannerRegistration, without the credential (write-only: never returned). */
function toApi(row: ScannerRegistration, isDefault: boolean) {
  const info = infoOf(row);
  return {
    uuid: row.uuid,
    name: row.name,
    description: row.description,
    url: row.url,
    disabled: row.disabled,
    is_default: isDefault,
    auth: row.auth,
    skip_certVerify: row.skip_cert_verify,
    use_internal_addr: row.use_internal_addr,
    adapter: info.name,
    vendor: info.vendor,
    version: info.version,
    create_time: row.created_at,
    update_time: row.updated_at,
  };
}

/** Harbor's ScannerRegistration of the embedded scanner: always there, never removed. */
function embeddedApi(scans: ScanService, isDefault: boolean, since: Date) {
  return {
    uuid: EMBEDDED_SCANNER_UUID,
    name: scans.scanner.name,
    description: "Berth's embedded scanner: layers read once and cached, matched offline against the imported OSV database",
    url: "embedded",
    disabled: false,
    is_default: isDefault,
    auth: "",
    skip_certVerify: false,
    use_internal_addr: true,
    adapter: scans.scanner.name,
    vendor: scans.scanner.vendor,
    version: scans.scanner.version,
    health: "healthy",
    create_time: since,
    update_time: since,
  };
}

function embeddedMetadata(scans: ScanService) {
  return {
    scanner: scans.scanner,
    capabilities: [
      { type: "vulnerability", consumes_mime_types: SCANNABLE_MANIFESTS, produces_mime_types: [VULNERABILITY_REPORT_MIME_TYPE] },
      { type: "sbom", consumes_mime_types: SCANNABLE_MANIFESTS, produces_mime_types: [CYCLONEDX_MEDIA_TYPE] },
    ],
    properties: { "harbor.scanner-adapter/scanner-type": "os-package-vulnerability" },
  };
}

/**
 * Harbor's scanner registrations (/api/v2.0/scanners, system admins) and each project's choice of scanner. The
 * embedded scanner is listed first and is the default until another registration is made the default.
 */
export function registerScannerRoutes(app: FastifyInstance, deps: ScannerRouteDeps): void {
  const { scans, registrations, directory } = deps;
  const started = new Date();

  const view = async (uuid: string) => {
    const defaultUuid = (await registrations.defaultUuid()) ?? EMBEDDED_SCANNER_UUID;
    if (uuid === EMBEDDED_SCANNER_UUID) return embeddedApi(scans, defaultUuid === EMBEDDED_SCANNER_UUID, started);
    const row = await registrations.get(uuid);
    return row ? toApi(row, row.uuid === defaultUuid) : null;
  };
  const find = async (request: FastifyRequest<{ Params: { uuid: string } }>, action: ActionName) => {
    requireSystem(request.principal, "scanner", action);
    const uuid = request.params.uuid;
    const row = uuid === EMBEDDED_SCANNER_UUID ? null : await registrations.get(uuid.length <= 64 ? uuid : "");
    if (uuid !== EMBEDDED_SCANNER_UUID && !row) throw new HarborError("NOT_FOUND", `scanner ${uuid.slice(0, 100)} not found`);
    return row;
  };
  const refuseGuarded = async (input: RegistrationInput) => {
    const refusal = await directory.urlRefusal(input.url);
    if (refusal !== null) bad(`url: ${refusal}`);
    return input;
  };
  const conflicts = async <T>(run: () => Promise<T>) => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof RegistrationConflictError) throw new HarborError("CONFLICT", error.message);
      throw error;
    }
  };
  const audited = (request: FastifyRequest, operation: "create" | "update" | "delete", resource: string) =>
    deps.audit.queue({ projectId: null, operation, resourceType: "scanner", resource }, actorOf(request));

  app.get("/api/v2.0/scanners", async (request, reply) => {
    requireSystem(request.principal, "scanner", "list");
    const defaultUuid = (await registrations.defaultUuid()) ?? EMBEDDED_SCANNER_UUID;
    const all = [embeddedApi(scans, defaultUuid === EMBEDDED_SCANNER_UUID, started), ...(await registrations.list()).map((row) => toApi(row, row.uuid === defaultUuid))];
    const page = paging(request.query as Record<string, unknown>);
    setPageHeaders(request, reply, page, all.length);
    return all.slice((page.page - 1) * page.pageSize, page.page * page.pageSize);
  });

  app.post("/api/v2.0/scanners", async (request, reply) => {
    requireSystem(request.principal, "scanner", "create");
    const input = await refuseGuarded(parseRegistration(jsonObjectBody(request)));
    const uuid = await conflicts(() => registrations.create(input));
    audited(request, "create", input.name);
    return reply.code(201).header("Location", `/api/v2.0/scanners/${uuid}`).send();
  });

  app.post("/api/v2.0/scanners/ping", async (request, reply) => {
    requireSystem(request.principal, "scanner", "create");
    const body = jsonObjectBody(request);
    const input = await refuseGuarded(parseRegistration({ name: "ping", ...body }));
    const problem = await directory.pingProblem(input);
    if (problem !== null) bad(`the scanner adapter cannot be used: ${problem}`);
    return reply.code(200).send();
  });

  app.get<{ Params: { uuid: string } }>("/api/v2.0/scanners/:uuid", async (request) => {
    await find(request, "read");
    return view(request.params.uuid);
  });

  app.put<{ Params: { uuid: string } }>("/api/v2.0/scanners/:uuid", async (request, reply) => {
    const row = await find(request, "create");
    if (!row) throw new HarborError("FORBIDDEN", "the embedded scanner's registration cannot be changed");
    const input = await refuseGuarded(parseRegistration(jsonObjectBody(request), row));
    await conflicts(() => registrations.update(row.uuid, input));
    audited(request, "update", input.name);
    return reply.code(200).send();
  });

  app.patch<{ Params: { uuid: string } }>("/api/v2.0/scanners/:uuid", async (request, reply) => {
    const row = await find(request, "create");
    const body = jsonObjectBody(request);
    if (typeof body.is_default !== "boolean") bad('the body must be {"is_default": true}');
    if (body.is_default) {
      if (row?.disabled) bad(`scanner ${row.name} is disabled and cannot be the default`);
      await registrations.setDefault(row?.uuid ?? null);
      audited(request, "update", `${row?.name ?? scans.scanner.name} (default)`);
    }
    return reply.code(200).send();
  });

  app.delete<{ Params: { uuid: string } }>("/api/v2.0/scanners/:uuid", async (request) => {
    const row = await find(request, "create");
    if (!row) throw new HarborError("FORBIDDEN", "the embedded scanner cannot be removed");
    const removed = await view(row.uuid);
    await registrations.delete(row.uuid);
    audited(request, "delete", row.name);
    return removed;
  });

  app.get<{ Params: { uuid: string } }>("/api/v2.0/scanners/:uuid/metadata", async (request) => {
    const row = await find(request, "read");
    if (!row) return embeddedMetadata(scans);
    try {
      return await directory.metadata(row);
    } catch (error) {
      if (error instanceof AdapterError) throw new HarborError("SERVICE_UNAVAILABLE", error.message);
      throw error;
    }
  });

  app.get<{ Params: { nameOrId: string } }>("/api/v2.0/projects/:nameOrId/scanner", async (request) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "scanner", "read");
    return view((await scans.scannerFor(project.name)).uuid);
  });

  app.put<{ Params: { nameOrId: string } }>("/api/v2.0/projects/:nameOrId/scanner", async (request, reply) => {
    const project = await projectFor(deps, request, request.params.nameOrId, "scanner", "create");
    const uuid = isJsonObject(request.body) ? request.body.uuid : undefined;
    if (typeof uuid !== "string") bad('the body must be {"uuid": "<scanner registration uuid>"}');
    if (uuid !== EMBEDDED_SCANNER_UUID) {
      const row = uuid.length <= 64 ? await registrations.get(uuid) : null;
      if (!row) bad(`scanner ${uuid.slice(0, 100)} is not registered`);
      if (row.disabled) bad(`scanner ${row.name} is disabled`);
    }
    await registrations.setProjectChoice(project.id, uuid);
    deps.audit.queue({ projectId: project.id, operation: "update", resourceType: "scanner", resource: `${project.name}: ${uuid}` }, actorOf(request));
    return reply.code(200).send();
  });
}
