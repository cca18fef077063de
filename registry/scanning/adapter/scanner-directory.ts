import { OutboundRefused, type OutboundGuard } from "../../outbound/address-guard";
import type { ProjectStore } from "../../projects/projects";
import type { ReportCounts, ScannerInfo, VulnerabilityReport } from "../report/harbor";
import type { ExternalScanners, ScannerChoice } from "../scan-service";
import { AdapterError, scansInto, type AdapterClient, type AdapterEndpoint } from "./adapter-client";
import type { AdapterMetadata } from "./protocol";
import type { ScannerRegistration, ScannerRegistrations } from "./registrations";

export interface ScannerDirectoryDeps {
  registrations: ScannerRegistrations;
  client: AdapterClient;
  projects: ProjectStore;
  guard: OutboundGuard;
  embedded: ScannerChoice;
  /** This registry's URL as an adapter should pull from it: the public one, or the one it listens on (`internal`). */
  registryUrl(internal: boolean): string;
  /** A short-lived bearer token for the scanner principal, allowing exactly a pull of `repository`. */
  pullToken(repository: string): string;
}

/**
 * Which scanner scans what (the embedded one, or a registered adapter chosen per project or as the default), and
 * scans through registered adapters: the adapter is told this registry's URL and a pull-only token for the one
 * repository, and polled until its report is ready.
 */
export class ScannerDirectory implements ExternalScanners {
  constructor(private readonly deps: ScannerDirectoryDeps) {}

  async forProject(projectName: string): Promise<ScannerChoice> {
    const project = await this.deps.projects.findRefByName(projectName);
    const chosen = project ? await this.deps.registrations.projectChoice(project.id) : null;
    const uuid = chosen ?? (await this.deps.registrations.defaultUuid());
    const registration = uuid === null || uuid === this.deps.embedded.uuid ? null : await this.deps.registrations.get(uuid);
    return registration && !registration.disabled ? { uuid: registration.uuid, info: infoOf(registration) } : this.deps.embedded;
  }

  async scan(uuid: string, repository: string, image: { digest: string; mediaType: string }): Promise<{ report: VulnerabilityReport; counts: ReportCounts }> {
    const registration = await this.deps.registrations.get(uuid);
    if (!registration) throw new AdapterError(`scanner registration ${uuid} no longer exists`);
    if (registration.disabled) throw new AdapterError(`scanner ${registration.name} is disabled`);
    const scanned = await this.deps.client.scan(registration, {
      registry: { url: this.deps.registryUrl(registration.use_internal_addr), authorization: `Bearer ${this.deps.pullToken(repository)}` },
      artifact: { repository, digest: image.digest, mime_type: image.mediaType },
    });
    const { scanner } = scanned.report;
    if (scanner.name && (scanner.name !== registration.adapter || scanner.version !== registration.version)) {
      await this.deps.registrations.saveAdapterInfo(uuid, scanner);
    }
    return scanned;
  }

  /** The adapter's metadata, fetched now; what it says it is is kept for reports and overviews. */
  async metadata(registration: ScannerRegistration): Promise<AdapterMetadata> {
    const metadata = await this.deps.client.metadata(registration);
    await this.deps.registrations.saveAdapterInfo(registration.uuid, metadata.scanner);
    return metadata;
  }

  /** Whether an adapter answers its metadata and scans images into Harbor's report: null when so, else why not. */
  async pingProblem(endpoint: AdapterEndpoint): Promise<string | null> {
    try {
      const metadata = await this.deps.client.metadata(endpoint);
      return scansInto(metadata, "application/vnd.oci.image.manifest.v1+json") || scansInto(metadata, "application/vnd.docker.distribution.manifest.v2+json")
        ? null
        : `${endpoint.url}: the adapter does not produce ${"vulnerability reports of images"}`;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  /**
   * Why an adapter URL may not be registered (the guard refuses its address), or null. This registry's own adapter
   * endpoint is allowed: it is reached on the loopback, never through the network.
   */
  async urlRefusal(url: string): Promise<string | null> {
    if (await this.deps.guard.isSelf(url)) return null;
    try {
      await this.deps.guard.check(url);
      return null;
    } catch (error) {
      // A name that does not resolve yet is not refused: the guard checks again on every connection.
      return error instanceof OutboundRefused ? error.message : null;
    }
  }
}

/** What a registration's reports are signed with: the adapter's own words once known, else its name. */
export function infoOf(registration: ScannerRegistration): ScannerInfo {
  return registration.adapter
    ? { name: registration.adapter, vendor: registration.vendor, version: registration.version }
    : { name: registration.name, vendor: "", version: "" };
}
