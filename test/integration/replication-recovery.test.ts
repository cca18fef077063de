import { prepareEnvironment, spawnBerth, type BerthProcess, RECEIVERS_ON_LOOPBACK } from "../support/berth";
import { startReferenceRegistry, type ReferenceRegistry } from "../support/reference-registry";
import { RegistryClient, type PushedImage } from "../support/registry-client";
import { describeWithTool } from "../support/tools";
import { waitUntil } from "../support/wait";

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

interface Execution {
  id: number;
  status: string;
  status_text: string;
}

describeWithTool("docker-registry", "replication when Berth is killed mid-run", () => {
  let upstream: ReferenceRegistry;
  let environment: Awaited<ReturnType<typeof prepareEnvironment>>;
  let server: BerthProcess | undefined;
  let image: PushedImage;

  beforeAll(async () => {
    [upstream, environment] = await Promise.all([startReferenceRegistry(), prepareEnvironment(RECEIVERS_ON_LOOPBACK)]);
    image = await new RegistryClient(upstream.url, null).pushImage("big/app", "1", "big", 4 * 1024 * 1024);
  });
  afterAll(async () => {
    await server?.kill("SIGKILL");
    await Promise.all([upstream?.stop(), environment?.cleanup()]);
  });

  it("marks the interrupted execution and its task failed after a restart, and the next run completes the copy", async () => {
    server = await spawnBerth(environment.env);
    let admin = new RegistryClient(server.url);
    const endpoint = await admin.fetch("/api/v2.0/registries", json("POST", { name: "upstream", url: upstream.url }));
    const registryId = Number(endpoint.headers.get("location")!.split("/").pop());
    // 4 MiB at 256 KB/s: the copy is still streaming when the process is killed.
    const policy = { name: "slow", src_registry: { id: registryId }, dest_namespace: "mirror", dest_namespace_replace_count: 1, speed: 256 };
    const created = await admin.fetch("/api/v2.0/replication/policies", json("POST", policy));
    const policyId = Number(created.headers.get("location")!.split("/").pop());
    const started = await admin.fetch("/api/v2.0/replication/executions", json("POST", { policy_id: policyId }));
    const executionId = Number(started.headers.get("location")!.split("/").pop());
    await waitUntil(async () => {
      const tasks = (await (await admin.fetch(`/api/v2.0/replication/executions/${executionId}/tasks`)).json()) as { status: string }[];
      return tasks.some((task) => task.status === "InProgress");
    }, "the copy to start");
    await server.kill("SIGKILL");

    server = await spawnBerth(environment.env);
    admin = new RegistryClient(server.url);
    // The killed node's lease lapses (30 s) and the restarted one marks the run failed.
    let execution: Execution | undefined;
    await waitUntil(async () => {
      execution = (await (await admin.fetch(`/api/v2.0/replication/executions/${executionId}`)).json()) as Execution;
      return execution.status !== "InProgress";
    }, "the interrupted execution to end", 60_000);
    expect(execution).toMatchObject({ status: "Failed", status_text: "interrupted: the process running it stopped before it finished" });
    const [task] = (await (await admin.fetch(`/api/v2.0/replication/executions/${executionId}/tasks`)).json()) as { id: number; status: string }[];
    expect(task.status).toBe("Failed");
    expect(await (await admin.fetch(`/api/v2.0/replication/executions/${executionId}/tasks/${task.id}/log`)).text()).toMatch(/not finished: the execution ended \(Error: interrupted/);
    // Nothing half-copied is visible.
    expect(await admin.digestOf("mirror/app", "1")).toBeNull();
    expect(await admin.blobStatus("mirror/app", image.layerDigest)).toBe(404);

    expect((await admin.fetch(`/api/v2.0/replication/policies/${policyId}`, json("PUT", { ...policy, speed: 0 }))).status).toBe(200);
    const rerun = await admin.fetch("/api/v2.0/replication/executions", json("POST", { policy_id: policyId }));
    const rerunId = Number(rerun.headers.get("location")!.split("/").pop());
    await waitUntil(async () => {
      execution = (await (await admin.fetch(`/api/v2.0/replication/executions/${rerunId}`)).json()) as Execution;
      return execution.status !== "InProgress";
    }, "the next run to end");
    expect(execution!.status).toBe("Succeed");
    expect(await admin.digestOf("mirror/app", "1")).toBe(image.manifestDigest);
    expect(await admin.pulledDigest("mirror/app", image.layerDigest)).toBe(image.layerDigest);
  }, 180_000);
});
