import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackSettings } from "../config";
import { controllerEnvironment, registryEnvironment, SECRET_VARIABLES } from "../environment";
import { IMAGE_DATA_DIR, IMAGE_USER_ID } from "../image";
import type { StackSecrets } from "../secrets";
import { pullSecrets } from "./pull-secrets";

export interface BerthKubernetesArgs {
  settings: StackSettings;
  secrets: StackSecrets;
  provider?: k8s.Provider;
}

const LABELS = { "app.kubernetes.io/name": "berth" };

/** Plain variables as `value`, secret ones through the Secret: no credential ever sits in a pod spec. */
function containerEnv(env: Record<string, pulumi.Input<string>>, secretName: pulumi.Input<string>) {
  return Object.entries(env).map(([name, value]) =>
    SECRET_VARIABLES.includes(name) ? { name, valueFrom: { secretKeyRef: { name: secretName, key: name } } } : { name, value },
  );
}

/** Berth's pods run as the image's own user; fsGroup makes the data volume theirs. */
const BERTH_POD_SECURITY = { runAsNonRoot: true, runAsUser: IMAGE_USER_ID, runAsGroup: IMAGE_USER_ID, fsGroup: IMAGE_USER_ID, seccompProfile: { type: "RuntimeDefault" } };
const BERTH_CONTAINER_SECURITY = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
/**
 * The image's /data volume as scratch space per pod: blobs live in MinIO and metadata in PostgreSQL, and the
 * controller's clone of the policy repository is fetched again after a restart.
 */
const DATA_VOLUME = { name: "data", emptyDir: {} };
const DATA_MOUNT = { name: "data", mountPath: IMAGE_DATA_DIR };
const REGISTRY_HEALTH = { httpGet: { path: "/api/v2.0/health", port: 5000 } };
/**
 * /metrics has a port of its own (BERTH_METRICS_ADDR), open on the pod's IP for Prometheus' pod discovery (the
 * usual prometheus.io annotations) but in no Service: the Service, and the ingress behind it, only know 5000.
 */
const METRICS_PORT = 9090;
const PROMETHEUS_ANNOTATIONS = { "prometheus.io/scrape": "true", "prometheus.io/port": String(METRICS_PORT), "prometheus.io/path": "/metrics" };

/** The Secret holding the robots' secrets (BERTH_ROBOT_SECRET_*) for the controller, when berth:pullSecrets asks. */
const ROBOT_SECRETS = "berth-robot-secrets";

/** Where the registry pods find the secret key file (a Secret volume). */
export const K8S_SECRET_KEY_DIR = "/etc/berth/secret-key";

/**
 * The key Berth encrypts stored secrets with, as a file from a Secret, the same in every replica. 0400; with the
 * pod's fsGroup the kubelet makes it 0440 (owner root, group the pod's), which Berth accepts: it refuses only keys
 * other users can read.
 */
const SECRET_KEY_VOLUME = { name: "secret-key", secret: { secretName: "berth-secret-key", defaultMode: 0o400 } };
const SECRET_KEY_MOUNT = { name: "secret-key", mountPath: K8S_SECRET_KEY_DIR, readOnly: true };

/** A pod spec with one container of the image (`berth serve` or `berth-controller watch`), as the image's user. */
function berthPod(image: string, container: k8s.types.input.core.v1.Container, withSecretKey = false) {
  return {
    securityContext: BERTH_POD_SECURITY,
    volumes: withSecretKey ? [DATA_VOLUME, SECRET_KEY_VOLUME] : [DATA_VOLUME],
    containers: [{ ...container, image, securityContext: BERTH_CONTAINER_SECURITY, volumeMounts: withSecretKey ? [DATA_MOUNT, SECRET_KEY_MOUNT] : [DATA_MOUNT] }],
  };
}

function statefulService(name: string, namespace: pulumi.Input<string>, port: number, opts: pulumi.CustomResourceOptions) {
  return new k8s.core.v1.Service(name, { metadata: { name, namespace }, spec: { clusterIP: "None", selector: { app: name }, ports: [{ port }] } }, opts);
}

/**
 * Berth on Kubernetes: PostgreSQL and MinIO StatefulSets (or an existing database), the registry as a Deployment
 * with its replicas spread over nodes, a Service and a TLS Ingress, and the controller as a single replica.
 */
export class BerthKubernetes extends pulumi.ComponentResource {
  readonly registryUrl: pulumi.Output<string>;
  readonly controllerStatusUrl: pulumi.Output<string>;

  constructor(name: string, args: BerthKubernetesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("berth:stack:Kubernetes", name, {}, opts);
    const { settings, secrets } = args;
    const child: pulumi.CustomResourceOptions = { parent: this, provider: args.provider };
    const namespace = new k8s.core.v1.Namespace(name, { metadata: { name: settings.namespace } }, child).metadata.name;

    // PostgreSQL, unless the stack points at an existing one.
    let databaseUrl = settings.databaseUrl;
    if (!databaseUrl) {
      new k8s.apps.v1.StatefulSet(`${name}-postgres`, {
        metadata: { name: "postgres", namespace },
        spec: {
          serviceName: "postgres",
          replicas: 1,
          selector: { matchLabels: { app: "postgres" } },
          template: {
            metadata: { labels: { app: "postgres" } },
            spec: {
              containers: [
                {
                  name: "postgres",
                  image: "postgres:16",
                  env: [
                    { name: "POSTGRES_USER", value: "berth" },
                    { name: "POSTGRES_DB", value: "berth" },
                    { name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: { name: "berth-postgres", key: "password" } } },
                  ],
                  ports: [{ containerPort: 5432 }],
                  volumeMounts: [{ name: "data", mountPath: "/var/lib/postgresql/data" }],
                },
              ],
            },
          },
          volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } } } }],
        },
      }, child);
      new k8s.core.v1.Secret(`${name}-postgres`, { metadata: { name: "berth-postgres", namespace }, stringData: { password: secrets.databasePassword } }, child);
      statefulService("postgres", namespace, 5432, child);
      databaseUrl = pulumi.secret(pulumi.interpolate`postgres://berth:${secrets.databasePassword}@postgres:5432/berth`);
    }

    // MinIO, distributed over four pods (erasure coding).
    new k8s.core.v1.Secret(`${name}-minio`, { metadata: { name: "berth-minio", namespace }, stringData: { MINIO_ROOT_USER: secrets.minioAccessKey, MINIO_ROOT_PASSWORD: secrets.minioSecretKey } }, child);
    new k8s.apps.v1.StatefulSet(`${name}-minio`, {
      metadata: { name: "minio", namespace },
      spec: {
        serviceName: "minio",
        replicas: 4,
        podManagementPolicy: "Parallel",
        selector: { matchLabels: { app: "minio" } },
        template: {
          metadata: { labels: { app: "minio" } },
          spec: {
            containers: [
              {
                name: "minio",
                image: "minio/minio:RELEASE.2025-04-22T22-12-26Z",
                args: ["server", "http://minio-{0...3}.minio.$(NAMESPACE).svc.cluster.local/data"],
                env: [{ name: "NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } }],
                envFrom: [{ secretRef: { name: "berth-minio" } }],
                ports: [{ containerPort: 9000 }],
                volumeMounts: [{ name: "data", mountPath: "/data" }],
              },
            ],
          },
        },
        volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${settings.diskGiB}Gi` } } } }],
      },
    }, child);
    statefulService("minio", namespace, 9000, child);

    const publicUrl = `https://${settings.domain}`;
    const controller = { repo: settings.controllerRepo, branch: settings.controllerBranch, schedule: settings.controllerSchedule };
    const env = registryEnvironment<pulumi.Input<string>>(
      { databaseUrl, s3Endpoint: "http://minio:9000", bucket: settings.bucket, s3AccessKey: secrets.minioAccessKey, s3SecretKey: secrets.minioSecretKey, adminPassword: secrets.adminPassword, publicUrl },
      controller,
      { dataDir: IMAGE_DATA_DIR, secretKeyFile: `${K8S_SECRET_KEY_DIR}/secretkey`, trustedProxies: settings.trustedProxies, metricsAddress: `0.0.0.0:${METRICS_PORT}` },
    );
    const controllerEnv = controllerEnvironment<pulumi.Input<string>>("http://berth:5000", secrets.adminPassword, controller, IMAGE_DATA_DIR);
    const secretData: Record<string, pulumi.Input<string>> = {};
    for (const [key, value] of Object.entries({ ...env, ...controllerEnv })) if (SECRET_VARIABLES.includes(key)) secretData[key] = value;
    new k8s.core.v1.Secret(`${name}-secret-key`, { metadata: { name: "berth-secret-key", namespace }, stringData: { secretkey: secrets.secretKey } }, child);
    const secret = new k8s.core.v1.Secret(`${name}-settings`, { metadata: { name: "berth-settings", namespace }, stringData: secretData }, child);

    new k8s.apps.v1.Deployment(`${name}-registry`, {
      metadata: { name: "berth", namespace, labels: LABELS },
      spec: {
        replicas: settings.replicas,
        selector: { matchLabels: LABELS },
        template: {
          metadata: { labels: LABELS, annotations: PROMETHEUS_ANNOTATIONS },
          spec: {
            // No two replicas on one node: losing a node leaves a registry serving.
            affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: LABELS }, topologyKey: "kubernetes.io/hostname" }] } },
            ...berthPod(settings.image, {
              name: "berth",
              command: ["berth", "serve"],
              env: containerEnv(env, secret.metadata.name),
              ports: [{ containerPort: 5000 }, { name: "metrics", containerPort: METRICS_PORT }],
              // The first start migrates the database: up to five minutes before the other probes begin.
              startupProbe: { ...REGISTRY_HEALTH, periodSeconds: 5, failureThreshold: 60 },
              readinessProbe: { ...REGISTRY_HEALTH, periodSeconds: 10 },
              // Health includes the database and the bucket, and a restart cures neither: liveness only asks whether
              // the process still accepts connections.
              livenessProbe: { tcpSocket: { port: 5000 }, periodSeconds: 20 },
            }, true),
          },
        },
      },
    }, child);
    new k8s.core.v1.Service(`${name}-registry`, { metadata: { name: "berth", namespace }, spec: { selector: LABELS, ports: [{ name: "http", port: 5000 }] } }, child);
    new k8s.networking.v1.Ingress(`${name}-registry`, {
      metadata: { name: "berth", namespace, annotations: { "nginx.ingress.kubernetes.io/proxy-body-size": "0" } },
      spec: {
        tls: [{ hosts: [settings.domain], secretName: settings.certificate ?? "berth-tls" }],
        rules: [{ host: settings.domain, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "berth", port: { number: 5000 } } } }] } }],
      },
    }, child);

    // The robots' secrets reach the controller (which sets them on the robots) through a Secret of their own.
    const robotSecrets = pullSecrets(name, settings.pullSecrets, settings.domain, child);
    const robotVariables = Object.keys(robotSecrets);
    if (robotVariables.length > 0) new k8s.core.v1.Secret(`${name}-robot-secrets`, { metadata: { name: ROBOT_SECRETS, namespace }, stringData: robotSecrets }, child);
    const robotEnv = robotVariables.map((variable) => ({ name: variable, valueFrom: { secretKeyRef: { name: ROBOT_SECRETS, key: variable } } }));

    new k8s.apps.v1.Deployment(`${name}-controller`, {
      metadata: { name: "berth-controller", namespace },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "berth-controller" } },
        template: {
          metadata: { labels: { app: "berth-controller" } },
          spec: berthPod(settings.image, {
            name: "controller",
            command: ["berth-controller", "watch"],
            env: [...containerEnv(controllerEnv, secret.metadata.name), ...robotEnv],
            ports: [{ containerPort: 5100 }],
            // No readiness probe: /readyz fails while a commit is parked, which is when its /metrics matter most.
            livenessProbe: { httpGet: { path: "/healthz", port: 5100 } },
          }),
        },
      },
    }, child);
    new k8s.core.v1.Service(`${name}-controller`, { metadata: { name: "berth-controller", namespace }, spec: { selector: { app: "berth-controller" }, ports: [{ port: 5100 }] } }, child);

    this.registryUrl = pulumi.output(publicUrl);
    this.controllerStatusUrl = pulumi.interpolate`http://berth-controller.${namespace}.svc.cluster.local:5100/readyz`;
    this.registerOutputs({ registryUrl: this.registryUrl, controllerStatusUrl: this.controllerStatusUrl });
  }
}
