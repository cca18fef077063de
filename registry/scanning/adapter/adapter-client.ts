import { setTimeout as sleep } from "node:timers/promises";
import type { OutboundGuard } from "../../outbound/address-guard";
import { guardedDispatcher } from "../../outbound/guarded-dispatcher";
import { remoteText } from "../../replication/remote-registry";
import { summarize, type Finding } from "../osv/match";
import type { HarborSeverity } from "../osv/severity";
import type { ReportCounts, VulnerabilityReport } from "../report/harbor";
import { ADAPTER_MEDIA_TYPES, normalizedMediaType, type AdapterMetadata, type AdapterScanRequest } from "./protocol";
import type { AdapterAuthType } from "./registrations";

/** What the client needs of a registration. */
export interface AdapterEndpoint {
  url: string;
  auth: AdapterAuthType;
  access_credential: string;
  skip_cert_verify: boolean;
}

export interface AdapterClientOptions {
  /** Checks every connection to an adapter (its URL, and each address it resolves to). */
  guard: OutboundGuard;
  /** This registry as it reaches itself (an adapter URL that is this registry's own goes there, unguarded). */
  self: { url(): string; fetch?: typeof fetch };
  /** Give up on a report after this long (BERTH_SCANNER_ADAPTER_TIMEOUT_SECONDS). */
  timeoutMs: number;
  /** The largest report accepted (BERTH_SCANNER_ADAPTER_REPORT_MAX_BYTES). */
  reportMaxBytes: number;
  /** The first poll's delay; later ones follow the adapter's Refresh-After. */
  firstPollMs?: number;
}

/** A failure talking to an adapter, in words fit for a scan's status message. */
export class AdapterError extends Error {}

const SEVERITIES = new Set<HarborSeverity>(["Unknown", "None", "Negligible", "Low", "Medium", "High", "Critical"]);
const REQUEST_TIMEOUT_MS = 15_000;
const DEFAULT_REFRESH_S = 5;
const METADATA_MAX_BYTES = 1024 * 1024;

/** The Authorization (or API key) header a registration's auth sends. */
export function adapterAuthHeaders(endpoint: Pick<AdapterEndpoint, "auth" | "access_credential">): Record<string, string> {
  switch (endpoint.auth) {
    case "Basic":
      return { Authorization: `Basic ${Buffer.from(endpoint.access_credential).toString("base64")}` };
    case "Bearer":
      return { Authorization: `Bearer ${endpoint.access_credential}` };
    case "X-ScannerAdapter-API-Key":
      return { "X-ScannerAdapter-API-Key": endpoint.access_credential };
    default:
      return {};
  }
}

/**
 * Harbor's adapter client (SCANNING.md §6.5): an external scanner's metadata, and scans submitted to it and polled
 * until the report is ready. Every request goes through the outbound guard, except to this registry's own adapter
 * endpoint, which is reached on its own loopback.
 */
export class AdapterClient {
  constructor(private readonly options: AdapterClientOptions) {}

  async metadata(endpoint: AdapterEndpoint): Promise<AdapterMetadata> {
    const response = await this.send(endpoint, "GET", "/api/v1/metadata", { Accept: `${ADAPTER_MEDIA_TYPES.metadata}, application/vnd.scanner.adapter.metadata+json; version=1.0` });
    if (response.status !== 200) throw await this.failure(response, "GET /api/v1/metadata");
    const body = await this.json(response, METADATA_MAX_BYTES);
    const scanner = (body as { scanner?: Record<string, unknown> }).scanner;
    if (!scanner || typeof scanner.name !== "string") throw new AdapterError(`${endpoint.url}: the metadata names no scanner`);
    const capabilities = Array.isArray((body as { capabilities?: unknown }).capabilities) ? (body as AdapterMetadata).capabilities : [];
    return {
      scanner: { name: String(scanner.name).slice(0, 255), vendor: String(scanner.vendor ?? "").slice(0, 255), version: String(scanner.version ?? "").slice(0, 255) },
      capabilities,
      properties: (body as AdapterMetadata).properties ?? {},
    };
  }

  /** Submits a scan and polls its report until it is ready, failed, or the time runs out. */
  async scan(endpoint: AdapterEndpoint, request: AdapterScanRequest): Promise<{ report: VulnerabilityReport; counts: ReportCounts }> {
    const submitted = await this.send(endpoint, "POST", "/api/v1/scan", { "Content-Type": ADAPTER_MEDIA_TYPES.scanRequest, Accept: ADAPTER_MEDIA_TYPES.scanResponse }, JSON.stringify(request));
    if (submitted.status !== 202) throw await this.failure(submitted, "POST /api/v1/scan");
    const id = (await this.json(submitted, METADATA_MAX_BYTES) as { id?: unknown }).id;
    if (typeof id !== "string" || !/^[\w.-]{1,128}$/.test(id)) throw new AdapterError(`${endpoint.url}: the scan response carries no usable id`);
    const deadline = Date.now() + this.options.timeoutMs;
    let wait = this.options.firstPollMs ?? 2_000;
    for (;;) {
      await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
      if (Date.now() >= deadline) throw new AdapterError(`${endpoint.url}: the report of scan ${id} was not ready within ${Math.round(this.options.timeoutMs / 1000)} s`);
      const response = await this.send(endpoint, "GET", `/api/v1/scan/${encodeURIComponent(id)}/report`, { Accept: ADAPTER_MEDIA_TYPES.report });
      if (response.status === 302) {
        await response.body?.cancel();
        const refresh = Number(response.headers.get("refresh-after") ?? response.headers.get("retry-after"));
        wait = (Number.isInteger(refresh) && refresh > 0 && refresh <= 127 ? refresh : DEFAULT_REFRESH_S) * 1000;
        continue;
      }
      if (response.status !== 200) throw await this.failure(response, `GET /api/v1/scan/${id}/report`);
      const report = readReport(await this.json(response, this.options.reportMaxBytes), request.artifact);
      if (!report) throw new AdapterError(`${endpoint.url}: the report of scan ${id} is not a vulnerability report`);
      return { report, counts: summarize(report.vulnerabilities) };
    }
  }

  private async send(endpoint: AdapterEndpoint, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Response> {
    const base = endpoint.url.replace(/\/+$/, "");
    const self = await this.options.guard.isSelf(base);
    // This registry's own adapter: the same path on the address it listens on.
    const url = self ? `${this.options.self.url()}${new URL(base).pathname.replace(/\/+$/, "")}${path}` : `${base}${path}`;
    const init: RequestInit = {
      method,
      headers: { ...headers, ...adapterAuthHeaders(endpoint) },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      ...(self ? {} : ({ dispatcher: guardedDispatcher(this.options.guard, endpoint.skip_cert_verify) } as RequestInit)),
    };
    try {
      if (!self) await this.options.guard.check(url);
      return await ((self ? this.options.self.fetch : undefined) ?? fetch)(url, init);
    } catch (error) {
      const cause = (error as { cause?: Error }).cause;
      throw new AdapterError(`${base}: ${method} ${path} failed: ${(cause ?? (error as Error)).message}`);
    }
  }

  private async failure(response: Response, what: string): Promise<AdapterError> {
    const text = await boundedText(response, 4096).catch(() => "");
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      // Not the adapter error shape: its text.
    }
    return new AdapterError(`the scanner adapter answered ${what} with ${response.status}${message ? `: ${remoteText(message)}` : ""}`);
  }

  private async json(response: Response, maxBytes: number): Promise<unknown> {
    const text = await boundedText(response, maxBytes);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new AdapterError("the scanner adapter answered something that is not JSON");
    }
  }
}

/** A response body as text, refused beyond `maxBytes` (a report is held whole to be stored, so it is bounded). */
async function boundedText(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return "";
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw new AdapterError(`the scanner adapter's answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** An adapter's report checked and reduced to the fields Harbor's report has, or null when it is not one. */
export function readReport(body: unknown, artifact: AdapterScanRequest["artifact"]): VulnerabilityReport | null {
  if (typeof body !== "object" || body === null) return null;
  const report = body as Record<string, unknown>;
  if (!Array.isArray(report.vulnerabilities)) return null;
  const vulnerabilities: Finding[] = [];
  for (const item of report.vulnerabilities as Array<Record<string, unknown>>) {
    if (typeof item !== "object" || item === null || typeof item.id !== "string" || typeof item.package !== "string") return null;
    const severity = SEVERITIES.has(item.severity as HarborSeverity) ? (item.severity as HarborSeverity) : "Unknown";
    vulnerabilities.push({
      ...(item as unknown as Finding),
      version: String(item.version ?? ""),
      fix_version: String(item.fix_version ?? ""),
      severity,
      description: String(item.description ?? ""),
      links: Array.isArray(item.links) ? item.links.filter((link): link is string => typeof link === "string") : [],
    });
  }
  const scanner = (report.scanner ?? {}) as Record<string, unknown>;
  return {
    generated_at: typeof report.generated_at === "string" ? report.generated_at : new Date().toISOString(),
    artifact: { repository: artifact.repository, digest: artifact.digest, mime_type: artifact.mime_type },
    scanner: { name: String(scanner.name ?? ""), vendor: String(scanner.vendor ?? ""), version: String(scanner.version ?? "") },
    severity: summarize(vulnerabilities).severity,
    vulnerabilities,
  };
}

/** Whether the metadata says the adapter scans `manifestType` into the 1.1 vulnerability report. */
export function scansInto(metadata: AdapterMetadata, manifestType: string): boolean {
  const wanted = normalizedMediaType(ADAPTER_MEDIA_TYPES.report);
  return metadata.capabilities.some(
    (capability) =>
      (capability.type ?? "vulnerability") === "vulnerability" &&
      (capability.consumes_mime_types ?? []).some((type) => normalizedMediaType(type) === normalizedMediaType(manifestType)) &&
      (capability.produces_mime_types ?? []).some((type) => normalizedMediaType(type) === wanted),
  );
}
