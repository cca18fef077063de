import { startBerth, type TestBerth, RECEIVERS_ON_LOOPBACK } from "../support/berth";
import { startReferenceRegistry, type ReferenceRegistry } from "../support/reference-registry";
import { RegistryClient } from "../support/registry-client";
import { describeWithTool } from "../support/tools";
import { waitUntil } from "../support/wait";

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

// A schedule fires at most once a minute (Harbor's rule): the test waits for the next minute's run.
const NEXT_RUN_MS = 90_000;

describeWithTool("docker-registry", "scheduled pull replication", () => {
  let berth: TestBerth;
  let upstream: ReferenceRegistry;

  beforeAll(async () => {
    [berth, upstream] = await Promise.all([startBerth({ env: RECEIVERS_ON_LOOPBACK }), startReferenceRegistry()]);
  });
  afterAll(async () => {
    await Promise.all([berth?.close(), upstream?.stop()]);
  });

  it("keeps a project in sync with the upstream: new tags arrive and deleted ones go", async () => {
    const admin = new RegistryClient(berth.url);
    const remote = new RegistryClient(upstream.url, null);
    const first = await remote.pushImage("team/app", "1", "app-1");
    const endpoint = await admin.fetch("/api/v2.0/registries", json("POST", { name: "upstream", url: upstream.url }));
    const registryId = Number(endpoint.headers.get("location")!.split("/").pop());
    const policy = await admin.fetch(
      "/api/v2.0/replication/policies",
      json("POST", {
        name: "sync-team",
        src_registry: { id: registryId },
        dest_namespace: "synced",
        dest_namespace_replace_count: 0,
        filters: [{ type: "name", value: "team/**" }],
        trigger: { type: "scheduled", trigger_settings: { cron: "0 0-59 * * * *" } },
        deletion: true,
      }),
    );
    expect(policy.status).toBe(201);

    // A manual run brings the project level with the upstream; the schedule must then keep it there.
    const policyId = Number(policy.headers.get("location")!.split("/").pop());
    expect((await admin.fetch("/api/v2.0/replication/executions", json("POST", { policy_id: policyId }))).status).toBe(201);
    await waitUntil(async () => (await admin.digestOf("synced/team/app", "1")) === first.manifestDigest, "the manual run");
    const second = await remote.pushImage("team/app", "2", "app-2");
    expect((await remote.fetch(`/v2/team/app/manifests/${first.manifestDigest}`, { method: "DELETE" })).status).toBe(202);
    await waitUntil(
      async () => (await admin.digestOf("synced/team/app", "2")) === second.manifestDigest && (await admin.digestOf("synced/team/app", "1")) === null,
      "the next scheduled run to sync the change",
      NEXT_RUN_MS,
    );
    // The next minute's run may have started meanwhile: judge the runs once none is in progress.
    let executions: { status: string }[] = [];
    await waitUntil(
      async () => (executions = (await (await admin.fetch("/api/v2.0/replication/executions?trigger=scheduled")).json()) as { status: string }[]).every((e) => e.status !== "InProgress"),
      "the scheduled runs to finish",
      NEXT_RUN_MS,
    );
    expect(executions.length).toBeGreaterThanOrEqual(1);
    expect(executions.map((execution) => execution.status)).toEqual(executions.map(() => "Succeed"));
  }, 240_000);
});
