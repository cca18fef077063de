import * as pulumi from "@pulumi/pulumi";
import { checkPodSpec, checkRegistryReplicas } from "../../stacks/policy/rules";
import packageJson from "../../package.json";
import { installMocks, isSecret, reveal, valueOf, type Recorded } from "./mocks";

describe("the kubernetes target (mocked)", () => {
  let recorded: Recorded[];
  let outputs: Record<string, pulumi.Output<unknown>>;

  beforeAll(async () => {
    recorded = installMocks({ target: "kubernetes", domain: "registry.example.com", namespace: "berth", controllerRepo: "https://git.example.com/policies.git" });
    const { berthStack } = await import("../../stacks/stack");
    outputs = berthStack() as unknown as Record<string, pulumi.Output<unknown>>;
    await valueOf(outputs.registryUrl);
    await pulumi.runtime.disconnect();
  });

  const ofType = (type: string) => recorded.filter((r) => r.type === type);
  const deployment = (name: string) => ofType("kubernetes:apps/v1:Deployment").find((d) => d.inputs.metadata.name === name)!;

  it("runs two registry replicas spread over nodes, and one controller", () => {
    const registry = deployment("berth");
    expect(registry.inputs.spec.replicas).toBe(2);
    expect(registry.inputs.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe("kubernetes.io/hostname");
    expect(deployment("berth-controller").inputs.spec.replicas).toBe(1);
    expect(deployment("berth-controller").inputs.spec.template.spec.containers[0].command).toEqual(["berth-controller", "watch"]);
  });

  it("runs the image `npm run image` builds, as the image's non-root user, with its /data volume and health probes", () => {
    for (const name of ["berth", "berth-controller"]) {
      const pod = deployment(name).inputs.spec.template.spec;
      const [container] = pod.containers;
      // The tag `npm run image` gives: package.json's name and version.
      expect(container.image).toBe(`berth:${packageJson.version}`);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 });
      expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
      expect(pod.volumes).toContainEqual({ name: "data", emptyDir: {} });
      expect(container.volumeMounts).toContainEqual({ name: "data", mountPath: "/data" });
      expect(container.env).toContainEqual({ name: "BERTH_DATA_DIR", value: "/data" });
    }
    const registry = deployment("berth").inputs.spec.template.spec.containers[0];
    expect(registry.command).toEqual(["berth", "serve"]);
    const health = { httpGet: { path: "/api/v2.0/health", port: 5000 } };
    expect(registry.startupProbe).toMatchObject(health);
    expect(registry.readinessProbe).toMatchObject(health);
    expect(registry.livenessProbe).toMatchObject({ tcpSocket: { port: 5000 } });
    expect(registry.env).toContainEqual({ name: "BERTH_ADDR", value: "0.0.0.0:5000" });
    const controller = deployment("berth-controller").inputs.spec.template.spec.containers[0];
    expect(controller.livenessProbe).toEqual({ httpGet: { path: "/healthz", port: 5100 } });
  });

  it("serves metrics on the pod's port 9090 for Prometheus' pod discovery, which no Service or ingress reaches", () => {
    const template = deployment("berth").inputs.spec.template;
    const [registry] = template.spec.containers;
    expect(registry.env).toContainEqual({ name: "BERTH_METRICS_ADDR", value: "0.0.0.0:9090" });
    expect(registry.ports).toContainEqual({ name: "metrics", containerPort: 9090 });
    expect(template.metadata.annotations).toEqual({ "prometheus.io/scrape": "true", "prometheus.io/port": "9090", "prometheus.io/path": "/metrics" });
    const service = ofType("kubernetes:core/v1:Service").find((s) => s.inputs.metadata.name === "berth")!;
    expect(service.inputs.spec.ports).toEqual([{ name: "http", port: 5000 }]);
    const [ingress] = ofType("kubernetes:networking.k8s.io/v1:Ingress");
    expect(ingress.inputs.spec.rules[0].http.paths.map((p: { backend: { service: { port: { number: number } } } }) => p.backend.service.port.number)).toEqual([5000]);
  });

  it("has PostgreSQL and MinIO as StatefulSets behind cluster-internal services, and TLS on the ingress", () => {
    expect(ofType("kubernetes:apps/v1:StatefulSet").map((s) => s.inputs.metadata.name).sort()).toEqual(["minio", "postgres"]);
    for (const service of ofType("kubernetes:core/v1:Service")) expect(service.inputs.spec.type ?? "ClusterIP").toBe("ClusterIP");
    const [ingress] = ofType("kubernetes:networking.k8s.io/v1:Ingress");
    expect(ingress.inputs.spec.tls).toEqual([{ hosts: ["registry.example.com"], secretName: "berth-tls" }]);
  });

  it("passes credentials only through Secrets, as Pulumi secrets", () => {
    const env = deployment("berth").inputs.spec.template.spec.containers[0].env as { name: string; value?: string; valueFrom?: unknown }[];
    const byName = new Map(env.map((e) => [e.name, e]));
    for (const name of ["BERTH_DATABASE_URL", "BERTH_ADMIN_PASSWORD", "BERTH_S3_SECRET_KEY", "BERTH_S3_ACCESS_KEY"]) {
      expect(byName.get(name)?.value).toBeUndefined();
      expect(byName.get(name)?.valueFrom).toEqual({ secretKeyRef: { name: "berth-settings", key: name } });
    }
    expect(byName.get("BERTH_STORAGE")?.value).toBe("s3");
    const settings = ofType("kubernetes:core/v1:Secret").find((s) => s.inputs.metadata.name === "berth-settings")!;
    // The whole Secret body travels as a Pulumi secret (never shown in a preview or the state in clear).
    expect(isSecret(settings.inputs.stringData)).toBe(true);
    const data = reveal<Record<string, string>>(settings.inputs.stringData);
    expect(Object.keys(data).sort()).toEqual(["BERTH_ADMIN_PASSWORD", "BERTH_DATABASE_URL", "BERTH_REGISTRY_PASSWORD", "BERTH_S3_ACCESS_KEY", "BERTH_S3_SECRET_KEY"]);
    expect(data.BERTH_DATABASE_URL).toMatch(/^postgres:\/\/berth:generated-test-database-password@postgres:5432\/berth$/);
    const violations: string[] = [];
    checkPodSpec(deployment("berth").inputs as never, (m) => violations.push(m));
    checkRegistryReplicas(recorded.map((r) => ({ type: r.type, name: r.name, props: r.inputs })), (m) => violations.push(m));
    expect(violations).toEqual([]);
  });

  it("gives every registry replica the same secret key, as a file from a Secret other users cannot read", () => {
    const pod = deployment("berth").inputs.spec.template.spec;
    expect(pod.volumes).toEqual([
      { name: "data", emptyDir: {} },
      { name: "secret-key", secret: { secretName: "berth-secret-key", defaultMode: 0o400 } },
    ]);
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: "secret-key", mountPath: "/etc/berth/secret-key", readOnly: true });
    expect(pod.containers[0].env).toContainEqual({ name: "BERTH_SECRET_KEY_FILE", value: "/etc/berth/secret-key/secretkey" });
    const key = ofType("kubernetes:core/v1:Secret").find((s) => s.inputs.metadata.name === "berth-secret-key")!;
    expect(isSecret(key.inputs.stringData)).toBe(true);
    expect(Buffer.from(reveal<Record<string, string>>(key.inputs.stringData).secretkey, "base64")).toHaveLength(32);
    // The controller holds no secret of the registry's database.
    expect(deployment("berth-controller").inputs.spec.template.spec.volumes).toEqual([{ name: "data", emptyDir: {} }]);
    expect(ofType("random:index/randomBytes:RandomBytes").map((r) => [r.name, r.inputs.length])).toEqual([["test-secret-key", 32]]);
  });

  it("outputs the registry URL, the admin user and the controller's status URL, the password only as a secret", async () => {
    expect(await valueOf(outputs.registryUrl)).toBe("https://registry.example.com");
    expect(outputs.adminUser).toBe("admin");
    expect(await valueOf(outputs.controllerStatusUrl)).toBe("http://berth-controller.berth.svc.cluster.local:5100/readyz");
    expect(await pulumi.isSecret(outputs.adminPassword)).toBe(true);
  });
});
