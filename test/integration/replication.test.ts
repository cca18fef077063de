import { ADMIN_PASSWORD, startBerth, type TestBerth, RECEIVERS_ON_LOOPBACK } from "../support/berth";
import { freePort, startReferenceRegistry, type ReferenceRegistry } from "../support/reference-registry";
import { OCI_MANIFEST, RegistryClient, type PushedImage } from "../support/registry-client";
import { describeWithTool } from "../support/tools";
import { startFlakyProxy } from "../support/flaky-proxy";
import { waitUntil } from "../support/wait";

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

interface Execution {
  id: number;
  status: string;
  status_text: string;
  trigger: string;
  total: number;
  failed: number;
  succeed: number;
}

interface Task {
  id: number;
  status: string;
  operation: string;
  src_resource: string;
  dst_resource: string;
}

describeWithTool("docker-registry", "replication between Berth and docker-registry", () => {
  let berth: TestBerth;
  let upstream: ReferenceRegistry;
  let admin: RegistryClient;
  let remote: RegistryClient;
  let upstreamId: number;
  const images = new Map<string, PushedImage>();
  let index: string;

  const created = async (response: Response) => {
    expect(response.status).toBe(201);
    return Number(response.headers.get("location")!.split("/").pop());
  };

  const createPolicy = (body: Record<string, unknown>) => admin.fetch("/api/v2.0/replication/policies", json("POST", body)).then(created);

  /** Starts a manual run of `policyId` and waits for it to end. */
  const runPolicy = async (policyId: number) => finished(await created(await admin.fetch("/api/v2.0/replication/executions", json("POST", { policy_id: policyId }))));

  const finished = async (executionId: number): Promise<Execution> => {
    let execution: Execution | undefined;
    await waitUntil(async () => {
      execution = (await (await admin.fetch(`/api/v2.0/replication/executions/${executionId}`)).json()) as Execution;
      return execution.status !== "InProgress";
    }, `execution ${executionId} to end`);
    return execution!;
  };

  const tasksOf = async (executionId: number) => (await (await admin.fetch(`/api/v2.0/replication/executions/${executionId}/tasks?page_size=100`)).json()) as Task[];
  const taskLog = async (executionId: number, taskId: number) => (await admin.fetch(`/api/v2.0/replication/executions/${executionId}/tasks/${taskId}/log`)).text();

  beforeAll(async () => {
    [berth, upstream] = await Promise.all([startBerth({ env: RECEIVERS_ON_LOOPBACK }), startReferenceRegistry()]);
    admin = new RegistryClient(berth.url);
    remote = new RegistryClient(upstream.url, null);
    for (const reference of ["library/nginx:1.0", "library/nginx:2.0", "library/redis:7.0", "other/tool:1.0"]) {
      const [repository, tag] = reference.split(":");
      images.set(reference, await remote.pushImage(repository, tag, reference));
    }
    const amd = await remote.pushImage("library/multi", "amd64", "multi-amd64");
    const arm = await remote.pushImage("library/multi", "arm64", "multi-arm64");
    index = await remote.pushIndex("library/multi", "1.0", [amd, arm]);
    upstreamId = await created(await admin.fetch("/api/v2.0/registries", json("POST", { name: "upstream", type: "docker-registry", url: upstream.url })));
  });
  afterAll(async () => {
    await Promise.all([berth?.close(), upstream?.stop()]);
  });

  it("pulls what the filters select into the namespace, indexes with their platforms, and reports a task per artifact", async () => {
    const policyId = await createPolicy({
      name: "pull-library",
      src_registry: { id: upstreamId },
      dest_namespace: "mirror",
      dest_namespace_replace_count: 1,
      filters: [
        { type: "name", value: "library/**" },
        { type: "tag", value: "{1.*,7.*}" },
      ],
      trigger: { type: "manual" },
    });
    const execution = await runPolicy(policyId);
    expect(execution).toMatchObject({ status: "Succeed", trigger: "manual", total: 3, succeed: 3, failed: 0 });
    const tasks = await tasksOf(execution.id);
    expect(tasks.map((t) => `${t.src_resource} -> ${t.dst_resource}`).sort()).toEqual([
      "library/multi:1.0 -> mirror/multi:1.0",
      "library/nginx:1.0 -> mirror/nginx:1.0",
      "library/redis:7.0 -> mirror/redis:7.0",
    ]);
    expect(await taskLog(execution.id, tasks[0].id)).toMatch(/copied library\/\S+ \(sha256:[0-9a-f]{64}\) from upstream \(http:\/\/127\.0\.0\.1:\d+\)/);

    // The project did not exist: replication created it, private, as Harbor does.
    const project = (await (await admin.fetch("/api/v2.0/projects/mirror")).json()) as { metadata: Record<string, string> };
    expect(project.metadata.public).toBe("false");
    expect(await admin.digestOf("mirror/nginx", "1.0")).toBe(images.get("library/nginx:1.0")!.manifestDigest);
    expect(await admin.digestOf("mirror/nginx", "2.0")).toBeNull();
    expect(await admin.pulledDigest("mirror/redis", images.get("library/redis:7.0")!.layerDigest)).toBe(images.get("library/redis:7.0")!.layerDigest);
    const copiedIndex = await admin.fetch("/v2/mirror/multi/manifests/1.0", { headers: { Accept: "application/vnd.oci.image.index.v1+json" } });
    expect(await copiedIndex.text()).toBe(index);
    for (const child of (JSON.parse(index) as { manifests: { digest: string }[] }).manifests) {
      expect(await admin.digestOf("mirror/multi", child.digest)).toBe(child.digest);
    }

    // Replicated pushes are audited with the policy and execution that made them.
    const logs = (await (await admin.fetch("/api/v2.0/audit-logs?q=resource%3D~mirror%2Fnginx&page_size=100")).json()) as { username: string; change_ref?: string }[];
    expect(logs.length).toBeGreaterThan(0);
    expect(logs[0].username).toBe("system:replication");

    // A second run finds everything in place and copies nothing.
    const again = await runPolicy(policyId);
    expect(again).toMatchObject({ status: "Succeed", total: 3, succeed: 3 });
    for (const task of await tasksOf(again.id)) expect(await taskLog(again.id, task.id)).toMatch(/nothing to copy/);
  });

  it("with deletion, removes tags the source no longer has", async () => {
    const policyId = await createPolicy({
      name: "pull-other",
      src_registry: { id: upstreamId },
      dest_namespace: "others",
      dest_namespace_replace_count: 1,
      filters: [{ type: "name", value: "other/**" }],
      deletion: true,
    });
    expect((await runPolicy(policyId)).status).toBe("Succeed");
    expect(await admin.digestOf("others/tool", "1.0")).toBe(images.get("other/tool:1.0")!.manifestDigest);
    const extra = await remote.pushImage("other/tool", "1.1", "other/tool:1.1");
    expect((await runPolicy(policyId)).status).toBe("Succeed");
    expect(await admin.digestOf("others/tool", "1.1")).toBe(extra.manifestDigest);

    // distribution deletes by digest only: the tag goes with its manifest.
    expect((await remote.fetch(`/v2/other/tool/manifests/${extra.manifestDigest}`, { method: "DELETE" })).status).toBe(202);
    const execution = await runPolicy(policyId);
    expect(execution.status).toBe("Succeed");
    const deletion = (await tasksOf(execution.id)).find((t) => t.operation === "tag deletion");
    expect(deletion).toMatchObject({ status: "Succeed", dst_resource: "others/tool:1.1" });
    expect(await admin.digestOf("others/tool", "1.1")).toBeNull();
    expect(await admin.digestOf("others/tool", "1.0")).toBe(images.get("other/tool:1.0")!.manifestDigest);
  });

  it("pushes on every push event, and deletes at the destination when the artifact is deleted here", async () => {
    await admin.createProject("team", { public: false });
    const policyId = await createPolicy({
      name: "push-team",
      dest_registry: { id: upstreamId },
      dest_namespace: "backup",
      dest_namespace_replace_count: 0,
      filters: [{ type: "name", value: "team/**" }],
      trigger: { type: "event_based" },
      deletion: true,
    });
    const pushed = await admin.pushImage("team/app", "v1", "team/app:v1");
    await waitUntil(async () => (await remote.digestOf("backup/team/app", "v1")) === pushed.manifestDigest, "the push to be replicated");
    const executions = (await (await admin.fetch(`/api/v2.0/replication/executions?policy_id=${policyId}&trigger=event_based`)).json()) as Execution[];
    expect(executions.length).toBeGreaterThanOrEqual(1);
    await waitUntil(async () => (await finished(executions[0].id)).status === "Succeed", "the event execution to succeed");

    // Event-based policies are reconciled on a schedule, so a missed event heals (its schedule is stored).
    expect(((await (await admin.fetch(`/api/v2.0/replication/policies/${policyId}`)).json()) as { trigger: unknown }).trigger).toEqual({ type: "event_based", trigger_settings: { cron: "" } });

    expect((await admin.fetch(`/v2/team/app/manifests/${pushed.manifestDigest}`, { method: "DELETE" })).status).toBe(202);
    await waitUntil(async () => (await remote.digestOf("backup/team/app", "v1")) === null, "the deletion to be replicated");
  });

  it("refuses an endpoint aimed at this registry itself, even with loopback allowed", async () => {
    const refused = await admin.fetch(
      "/api/v2.0/registries",
      json("POST", { name: "self", type: "berth", url: berth.url, credential: { access_key: "admin", access_secret: ADMIN_PASSWORD } }),
    );
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0].message).toContain("the registry's own listening address");
  });

  it("pushes to a second Berth with the artifact's referrers (signatures, SBOMs)", async () => {
    const second = await startBerth();
    try {
      await admin.createProject("signed", { public: false });
      const image = await admin.pushImage("signed/app", "v1", "signed/app:v1");
      const signature = await admin.pushReferrer("signed/app", image, "application/vnd.dev.cosign.signature", "signature-bytes");
      const secondId = await created(
        await admin.fetch("/api/v2.0/registries", json("POST", { name: "second", type: "berth", url: second.url, credential: { access_key: "admin", access_secret: ADMIN_PASSWORD } })),
      );
      const policyId = await createPolicy({ name: "to-second", dest_registry: { id: secondId }, filters: [{ type: "name", value: "signed/**" }] });
      expect((await runPolicy(policyId)).status).toBe("Succeed");
      const target = new RegistryClient(second.url);
      expect(await target.digestOf("signed/app", "v1")).toBe(image.manifestDigest);
      const referrers = (await (await target.fetch(`/v2/signed/app/referrers/${image.manifestDigest}`)).json()) as { manifests: { digest: string; artifactType: string }[] };
      expect(referrers.manifests).toEqual([expect.objectContaining({ digest: signature, artifactType: "application/vnd.dev.cosign.signature" })]);
    } finally {
      await second.close();
    }
  });

  it("fails a task with the registry, the artifact and the upstream's answer, and fails fast on 4xx", async () => {
    // A push-based copy into a namespace the policy cannot place (replace count beyond the path).
    const policyId = await createPolicy({
      name: "too-deep",
      dest_registry: { id: upstreamId },
      dest_namespace: "x",
      dest_namespace_replace_count: 5,
      filters: [{ type: "name", value: "mirror/nginx" }],
    });
    const execution = await runPolicy(policyId);
    expect(execution.status).toBe("Failed");
    expect(execution.status_text).toMatch(/1 of 1 task\(s\) failed/);
    const [task] = await tasksOf(execution.id);
    expect(task.status).toBe("Failed");
    expect(await taskLog(execution.id, task.id)).toMatch(/mirror\/nginx: dest_namespace_replace_count 5 drops more path components/);
  });

  it("retries transient upstream failures, and fails fast on a 4xx with the registry, the artifact and the answer", async () => {
    const failedOnce = new Set<string>();
    const proxy = await startFlakyProxy(upstream.url, (request) => {
      const url = request.url ?? "";
      if (request.method === "GET" && url.includes("/v2/library/redis/blobs/") && !failedOnce.has(url)) {
        failedOnce.add(url);
        return { status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"injected"}]}' };
      }
      if (url.startsWith("/v2/library/nginx/manifests/")) return { status: 403, body: '{"errors":[{"code":"DENIED","message":"pull rate limit reached"}]}' };
      return null;
    });
    try {
      const flakyId = await created(await admin.fetch("/api/v2.0/registries", json("POST", { name: "flaky", url: proxy.url })));
      const policyId = await createPolicy({
        name: "from-flaky",
        src_registry: { id: flakyId },
        dest_namespace: "flaky",
        dest_namespace_replace_count: 1,
        filters: [
          { type: "name", value: "library/{nginx,redis}" },
          { type: "tag", value: "{1.0,7.0}" },
        ],
      });
      const execution = await runPolicy(policyId);
      expect(execution).toMatchObject({ status: "Failed", total: 2, succeed: 1, failed: 1 });
      const tasks = await tasksOf(execution.id);
      const redis = tasks.find((t) => t.src_resource === "library/redis:7.0")!;
      expect(redis.status).toBe("Succeed");
      expect(failedOnce.size).toBeGreaterThan(0);
      expect(await admin.digestOf("flaky/redis", "7.0")).toBe(images.get("library/redis:7.0")!.manifestDigest);
      const nginx = tasks.find((t) => t.src_resource === "library/nginx:1.0")!;
      expect(nginx.status).toBe("Failed");
      expect(await taskLog(execution.id, nginx.id)).toContain(`${proxy.url}: GET /v2/library/nginx/manifests/1.0 answered 403: {"errors":[{"code":"DENIED","message":"pull rate limit reached"}]}`);
      expect(proxy.seen.filter((line) => line === "GET /v2/library/nginx/manifests/1.0")).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it("fails the execution with the reason when the endpoint is unreachable, and refuses runs of disabled policies", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const downId = await created(await admin.fetch("/api/v2.0/registries", json("POST", { name: "down", url: closed })));
    const policyId = await createPolicy({ name: "from-down", src_registry: { id: downId }, dest_namespace: "mirror" });
    const execution = await runPolicy(policyId);
    expect(execution.status).toBe("Failed");
    expect(execution.status_text).toBe(`${closed}: GET /v2/_catalog failed: ECONNREFUSED`);

    expect((await admin.fetch(`/api/v2.0/registries/${downId}`, { method: "DELETE" })).status).toBe(412);
    const disabled = await createPolicy({ name: "disabled", src_registry: { id: downId }, dest_namespace: "mirror", enabled: false });
    const refused = await admin.fetch("/api/v2.0/replication/executions", json("POST", { policy_id: disabled }));
    expect(refused.status).toBe(412);
    expect(await refused.json()).toEqual({ errors: [{ code: "PRECONDITION", message: `the policy ${disabled} is disabled` }] });
  });

  it("validates policies with Harbor's errors and keeps them system-admin only", async () => {
    const bad = await admin.fetch("/api/v2.0/replication/policies", json("POST", { name: "both", src_registry: { id: upstreamId }, dest_registry: { id: upstreamId } }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/exactly one of src_registry and dest_registry/);
    const missing = await admin.fetch("/api/v2.0/replication/policies", json("POST", { name: "ghost", src_registry: { id: 999 } }));
    expect(missing.status).toBe(400);
    const anonymous = new RegistryClient(berth.url, null);
    expect((await anonymous.fetch("/api/v2.0/replication/policies")).status).toBe(401);
    const listed = await admin.fetch("/api/v2.0/replication/policies?q=name%3D~pull");
    expect(listed.headers.get("x-total-count")).toBe("2");
    const [first] = (await listed.json()) as { name: string; src_registry: { name: string }; dest_registry: { id: number } }[];
    expect(first).toMatchObject({ name: "pull-library", src_registry: { name: "upstream" }, dest_registry: { id: 0 } });
  });

  it("copies a tag filter's image only, by resource type", async () => {
    const helm = Buffer.from("not an image");
    const configDigest = await remote.pushBlob("charts/web", Buffer.from("{}"));
    const layerDigest = await remote.pushBlob("charts/web", helm);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.cncf.helm.config.v1+json", digest: configDigest, size: 2 },
      layers: [{ mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", digest: layerDigest, size: helm.length }],
    });
    expect((await remote.fetch("/v2/charts/web/manifests/0.1.0", { method: "PUT", headers: { "Content-Type": OCI_MANIFEST }, body: manifest })).status).toBe(201);
    await remote.pushImage("charts/web", "image", "charts/web:image");
    const policyId = await createPolicy({
      name: "images-only",
      src_registry: { id: upstreamId },
      dest_namespace: "images",
      filters: [
        { type: "name", value: "charts/**" },
        { type: "resource", value: "image" },
      ],
    });
    expect((await runPolicy(policyId)).status).toBe("Succeed");
    expect(await admin.digestOf("images/web", "image")).not.toBeNull();
    expect(await admin.digestOf("images/web", "0.1.0")).toBeNull();
  });
});
