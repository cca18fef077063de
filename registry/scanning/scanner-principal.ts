import { NO_SCOPES, type Principal } from "../auth/principal";
import type { TokenAccess } from "../auth/token-service";

/**
 * Who the scanner acts as toward the registry: it writes SBOM referrers, and external scanners pull the images they
 * scan with tokens minted for it. Robot id 0 belongs to no stored robot; only this process's signing key can mint a
 * token naming it, so no one else can be it.
 */
export const SCANNER: Principal = { kind: "robot", id: 0, name: "system:scanner", scopes: NO_SCOPES };

/**
 * Whether a /v2 request is the scanner's (a bearer token minted for it): the pull policy lets it through, as Harbor's
 * SkipPolicyChecking lets its scanner robots, since an image cannot be scanned that cannot be pulled.
 */
export function isScannerRequest(principal: Principal, tokenAccess: TokenAccess[] | null): boolean {
  return tokenAccess !== null && principal.kind === "robot" && principal.id === 0 && principal.name === "system:scanner";
}
