import type { ScannerAdapterConfig } from "../../config";
import type { Queryable } from "../../db/sql";
import type { OutboundGuard } from "../../outbound/address-guard";
import type { ProjectStore } from "../../projects/projects";
import { RemoteRegistry } from "../../replication/remote-registry";
import type { TokenService } from "../../auth/token-service";
import type { SecretBox } from "../../secrets/secret-box";
import type { EmbeddedScanner } from "../embedded-scanner";
import { EMBEDDED_SCANNER_UUID } from "../scan-service";
import { SCANNER } from "../scanner-principal";
import { AdapterClient } from "./adapter-client";
import { AdapterScans } from "./adapter-scans";
import { ScannerRegistrations } from "./registrations";
import { ScannerDirectory } from "./scanner-directory";

// Adapter API reports are kept a day: Harbor fetches them within its 30-minute polling window.
const ADAPTER_REPORT_KEEP_MS = 24 * 60 * 60 * 1000;

export interface ScannerAdapterSetupDeps {
  db: Queryable;
  secrets: SecretBox;
  guard: OutboundGuard;
  tokens: TokenService;
  projects: ProjectStore;
  embedded: EmbeddedScanner;
  config: ScannerAdapterConfig;
  /** BERTH_PUBLIC_URL, the URL external adapters are told to pull from (else the listening one). */
  publicUrl?: string;
  /** This registry as it reaches itself (its listening address), and the fetch that trusts its certificate. */
  self: { url(): string; fetch?: typeof fetch };
  onError(error: unknown, what: string): void;
}

/**
 * Both sides of Harbor's scanner adapter API: registrations of external adapters (and the directory choosing a
 * project's scanner and driving them), and the scans this registry's own adapter API runs. Either side may face this
 * very registry (its own adapter URL registered; a scan request naming it): that goes through its loopback with the
 * credentials given, never through the outbound guard's refusal of its own address.
 */
export function setUpScannerAdapters(deps: ScannerAdapterSetupDeps) {
  const registrations = new ScannerRegistrations(deps.db, deps.secrets);
  const directory = new ScannerDirectory({
    registrations,
    client: new AdapterClient({ guard: deps.guard, self: deps.self, timeoutMs: deps.config.timeoutSeconds * 1000, reportMaxBytes: deps.config.reportMaxBytes }),
    projects: deps.projects,
    guard: deps.guard,
    embedded: { uuid: EMBEDDED_SCANNER_UUID, info: deps.embedded.info },
    registryUrl: (internal) => (internal || !deps.publicUrl ? deps.self.url() : deps.publicUrl),
    // It lasts as long as the scan may (an adapter may queue it a while before pulling), and opens one repository.
    pullToken: (repository) => deps.tokens.issue(SCANNER, [{ type: "repository", name: repository, actions: ["pull"] }], deps.config.timeoutSeconds).token,
  });
  const adapterScans = new AdapterScans(
    {
      db: deps.db,
      scanner: deps.embedded,
      registry: async (url, authorization) => {
        const authorize = authorization ? () => authorization : undefined;
        if (await deps.guard.isSelf(url)) return new RemoteRegistry(deps.self.url(), { authorize, fetch: deps.self.fetch, attempts: 2 });
        return new RemoteRegistry(url, { authorize, guard: deps.guard, attempts: 2 });
      },
    },
    { running: deps.config.workers, keepMs: ADAPTER_REPORT_KEEP_MS, timeoutMs: deps.config.timeoutSeconds * 1000, onError: deps.onError },
  );
  return { registrations, directory, adapterScans };
}
