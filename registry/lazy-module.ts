/**
 * A module loaded at its first use instead of at start: for libraries only some deployments or rare requests need
 * (the SBOM writer, the Helm chart reader). Every `berth serve` start and every test suite that starts a server
 * loads the modules the server imports, so what is not needed there is not loaded there.
 */
export function loadOnFirstUse<T>(load: () => T): () => T {
  let loaded: { module: T } | undefined;
  return () => (loaded ??= { module: load() }).module;
}
