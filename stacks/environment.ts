/**
 * The registry's and controller's settings as `BERTH_*` variables, rendered by one function from the stack's
 * settings, for every target (systemd env file, Kubernetes Secret). Generic over the value type so the same function
 * renders Pulumi outputs in a stack and plain strings in the test that starts a real `berth serve` with them.
 */
export interface ServiceEndpoints<T> {
  databaseUrl: T;
  s3Endpoint: T;
  bucket: string;
  s3AccessKey: T;
  s3SecretKey: T;
  adminPassword: T;
  /** https://<domain> */
  publicUrl: string;
}

export interface ControllerSettings {
  repo: string;
  branch: string;
  schedule: string;
}

/** Where a host keeps the certificate chain and key Berth serves when it terminates TLS itself (the hosts target). */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** Variables that hold secrets: they go into a Secret (or a 0600 file), never into plain outputs or specs. */
export const SECRET_VARIABLES = ["BERTH_DATABASE_URL", "BERTH_S3_ACCESS_KEY", "BERTH_S3_SECRET_KEY", "BERTH_ADMIN_PASSWORD", "BERTH_REGISTRY_PASSWORD"];

export interface RegistryEnvironmentOptions {
  dataDir?: string;
  /** Where the stack puts the secret key file (the same key on every node); unset → Berth generates one per node. */
  secretKeyFile?: string;
  tls?: TlsFiles;
  /** CIDRs of the load balancer or ingress in front, whose X-Forwarded-For names the client (login throttling, audit). */
  trustedProxies?: string[];
  /**
   * BERTH_METRICS_ADDR, for a target whose Prometheus scrapes from elsewhere (a pod's IP); unset keeps the default,
   * loopback port 9090, where a scraper on the same host reaches it and nothing outside does.
   */
  metricsAddress?: string;
}

/**
 * Berth's variables. With `tls` Berth terminates TLS itself on 443 with those files (reloaded when they are renewed);
 * without it, it speaks plain HTTP on 5000 behind whatever terminates TLS in front (a load balancer, an ingress).
 */
export function registryEnvironment<T>(endpoints: ServiceEndpoints<T>, controller: ControllerSettings, options: RegistryEnvironmentOptions = {}): Record<string, T | string> {
  const { dataDir = "/var/lib/berth", secretKeyFile, tls, trustedProxies = [], metricsAddress } = options;
  return {
    BERTH_ADDR: tls ? "0.0.0.0:443" : "0.0.0.0:5000",
    ...(metricsAddress ? { BERTH_METRICS_ADDR: metricsAddress } : {}),
    ...(tls ? { BERTH_TLS_CERT_FILE: tls.certFile, BERTH_TLS_KEY_FILE: tls.keyFile } : {}),
    ...(trustedProxies.length > 0 ? { BERTH_TRUSTED_PROXIES: trustedProxies.join(",") } : {}),
    BERTH_DATA_DIR: dataDir,
    ...(secretKeyFile ? { BERTH_SECRET_KEY_FILE: secretKeyFile } : {}),
    BERTH_DATABASE_URL: endpoints.databaseUrl,
    BERTH_STORAGE: "s3",
    BERTH_S3_ENDPOINT: endpoints.s3Endpoint,
    BERTH_S3_BUCKET: endpoints.bucket,
    BERTH_S3_REGION: "us-east-1",
    BERTH_S3_ACCESS_KEY: endpoints.s3AccessKey,
    BERTH_S3_SECRET_KEY: endpoints.s3SecretKey,
    BERTH_ADMIN_PASSWORD: endpoints.adminPassword,
    BERTH_PUBLIC_URL: endpoints.publicUrl,
    BERTH_LOG_LEVEL: "info",
    // The controller runs once per deployment (its own Deployment or the first host), not inside every replica.
    BERTH_CONTROLLER_REPO: "off",
    BERTH_CONTROLLER_BRANCH: controller.branch,
    BERTH_CONTROLLER_SCHEDULE: controller.schedule,
  };
}

/** `berth-controller watch` against the registry it belongs to. */
export function controllerEnvironment<T>(registryUrl: string, adminPassword: T, controller: ControllerSettings, dataDir = "/var/lib/berth-controller"): Record<string, T | string> {
  return {
    BERTH_REGISTRY_URL: registryUrl,
    BERTH_REGISTRY_USER: "admin",
    BERTH_REGISTRY_PASSWORD: adminPassword,
    BERTH_CONTROLLER_REPO: controller.repo,
    BERTH_CONTROLLER_BRANCH: controller.branch,
    BERTH_CONTROLLER_SCHEDULE: controller.schedule,
    BERTH_CONTROLLER_ADDR: "0.0.0.0:5100",
    BERTH_DATA_DIR: dataDir,
  };
}
