import type { JobContext, Scheduler } from "../scheduler/scheduler";
import { ArtifactCopier } from "./copier";
import { destinationRepository, filtersSelect, labelsSelect, type ReplicationPolicyInput } from "./policy";
import { credentialsOf, type RegistryRow, type RegistryStore } from "./registries";
import { errorMessage as message, RemoteError, type RemoteRegistry } from "./remote-registry";
import { RemoteProjects } from "./remote-projects";
import type { ReplicationStore, TaskOperation } from "./store";
import { inParallel } from "./parallel";

export const REPLICATION_JOB = "REPLICATION";

/** Tasks of one execution that run at once. */
const TASK_CONCURRENCY = 4;

/** This registry as one side of a replication. */
export interface LocalSide {
  /** A client for this registry's own /v2, authorized for whatever a replication asks; `changeRef` goes to the audit log. */
  registry(changeRef: string): RemoteRegistry;
  /** Every repository with content (push-based sources list these instead of a catalog). */
  repositories(): Promise<string[]>;
  /** Creates the project a pulled repository lands in when it does not exist yet, as Harbor does. */
  ensureProject(name: string): Promise<void>;
  /** Names of the labels an artifact here carries (label filters). */
  labels(repository: string, digest: string): Promise<string[]>;
}

export interface ReplicationJobDeps {
  store: ReplicationStore;
  registries: RegistryStore;
  local: LocalSide;
}

/** What an event-based execution was started for: one artifact pushed or deleted here. */
export interface ReplicationEvent {
  kind: "push" | "delete";
  repository: string;
  tag: string | null;
  digest: string;
}

interface Side {
  registry: RemoteRegistry;
  describe: string;
  repositories(): Promise<string[]>;
  /** Makes a repository writable before the first copy into it (the project it lands in). */
  prepare(repository: string): Promise<void>;
  /** The labels an artifact carries; only this registry has labels (label filters need a push-based policy). */
  labels(repository: string, digest: string): Promise<string[]>;
}

interface WorkItem {
  operation: TaskOperation;
  source: string;
  destination: string;
  /** The tag, or a digest for untagged artifacts and deletions by digest. */
  reference: string;
}

function sidesOf(
  policy: ReplicationPolicyInput,
  endpoint: RegistryRow,
  registries: RegistryStore,
  local: LocalSide,
  changeRef: string,
): { source: Side; destination: Side } {
  const remote = registries.remote(endpoint, 5);
  const describe = `${endpoint.name} (${endpoint.url})`;
  const remoteSide: Side = {
    registry: remote,
    describe,
    repositories: () => remote.catalog(),
    prepare: projectMaker(endpoint, describe, registries),
    labels: async () => [],
  };
  const localSide: Side = {
    registry: local.registry(changeRef),
    describe: "this registry",
    repositories: () => local.repositories(),
    prepare: (repository) => local.ensureProject(repository.split("/")[0]),
    labels: (repository, digest) => local.labels(repository, digest),
  };
  return policy.srcRegistryId !== null ? { source: remoteSide, destination: localSide } : { source: localSide, destination: remoteSide };
}

/**
 * For Harbor and Berth destinations: creates the project a repository lands in when it does not exist (Harbor's
 * adapter does the same), once per run. Other registries need no projects.
 */
function projectMaker(endpoint: RegistryRow, describe: string, registries: RegistryStore): (repository: string) => Promise<void> {
  if (endpoint.type !== "harbor" && endpoint.type !== "berth") return async () => undefined;
  const projects = new RemoteProjects({ url: endpoint.url, credentials: credentialsOf(endpoint), insecure: endpoint.insecure, describe, guard: registries.guard });
  return async (repository) => {
    await projects.ensure(repository.split("/")[0]);
  };
}

/** The copies (and, with `deletion`, tag deletions) a full run of the policy makes. */
async function planFullRun(
  policy: ReplicationPolicyInput,
  source: Side,
  destination: Side,
  job: JobContext,
): Promise<{ items: WorkItem[]; problems: { repository: string; message: string }[] }> {
  const items: WorkItem[] = [];
  const problems: { repository: string; message: string }[] = [];
  const repositories = (await source.repositories()).filter((repository) => filtersSelect({ ...policy.filters, tag: null }, repository, null));
  for (const repository of repositories) {
    if (job.signal.aborted) break;
    const target = destinationRepository(repository, policy.destNamespace, policy.destNamespaceReplaceCount);
    if (target === null) {
      problems.push({ repository, message: `${repository}: dest_namespace_replace_count ${policy.destNamespaceReplaceCount} drops more path components than it has` });
      continue;
    }
    const tags = (await source.registry.tags(repository)).filter((tag) => filtersSelect(policy.filters, repository, tag));
    for (const tag of tags.sort()) items.push({ operation: "copy", source: repository, destination: target, reference: tag });
    if (policy.deletion) {
      await destination.prepare(target);
      const present = new Set(tags);
      const stale = (await destination.registry.tags(target)).filter((tag) => !present.has(tag) && filtersSelect(policy.filters, repository, tag));
      for (const tag of stale.sort()) items.push({ operation: "tag deletion", source: repository, destination: target, reference: tag });
    }
  }
  return { items, problems };
}

/** The one copy or deletion an event asks for; none when the policy does not replicate it. */
export function planEvent(policy: ReplicationPolicyInput, event: ReplicationEvent): WorkItem[] {
  if (!filtersSelect(policy.filters, event.repository, event.tag)) return [];
  const destination = destinationRepository(event.repository, policy.destNamespace, policy.destNamespaceReplaceCount);
  if (destination === null) return [];
  if (event.kind === "delete") {
    return policy.deletion ? [{ operation: "deletion", source: event.repository, destination, reference: event.digest }] : [];
  }
  return [{ operation: "copy", source: event.repository, destination, reference: event.tag ?? event.digest }];
}

/** Whether the manifest is a container image (or an index of them), for the `resource: image` filter. */
function isImage(mediaType: string, content: Buffer): boolean {
  if (mediaType.includes("index") || mediaType.includes("manifest.list")) return true;
  const config = (JSON.parse(content.toString("utf8")) as { config?: { mediaType?: string } }).config?.mediaType ?? "";
  return config === "application/vnd.oci.image.config.v1+json" || config === "application/vnd.docker.container.image.v1+json";
}

type Outcome = { status: "Succeed" | "Failed"; log: string };

async function copyOne(policy: ReplicationPolicyInput, source: Side, destination: Side, item: WorkItem): Promise<Outcome> {
  const from = `${item.source}:${item.reference}`;
  const to = `${item.destination}:${item.reference}`;
  const manifest = await source.registry.manifest(item.source, item.reference);
  if (!manifest) return { status: "Failed", log: `${source.describe} no longer has ${from} (404)` };
  if (policy.filters.resource && (policy.filters.resource === "image") !== isImage(manifest.mediaType, manifest.content)) {
    return { status: "Succeed", log: `${from} is not of resource type ${policy.filters.resource}: skipped` };
  }
  if (policy.filters.label && !labelsSelect(policy.filters, await source.labels(item.source, manifest.digest))) {
    const { names, decoration } = policy.filters.label;
    return { status: "Succeed", log: `${from} does not pass the label filter (${decoration} ${names.join(", ")}): skipped` };
  }
  await destination.prepare(item.destination);
  const present = await destination.registry.manifestDigest(item.destination, item.reference);
  if (present === manifest.digest) return { status: "Succeed", log: `${to} is already ${manifest.digest} at ${destination.describe}: nothing to copy` };
  if (present !== null && !policy.override) {
    return { status: "Succeed", log: `${to} exists at ${destination.describe} (${present}) and override is off: skipped` };
  }
  const copier = new ArtifactCopier(
    { registry: source.registry, repository: item.source },
    { registry: destination.registry, repository: item.destination },
    { speedKBps: policy.speed },
  );
  try {
    await copier.copyManifest(manifest, item.reference.includes(":") ? null : item.reference);
  } catch (error) {
    // The destination keeps an immutable tag; Harbor skips such artifacts rather than failing the run.
    if (error instanceof RemoteError && error.status === 412 && /immutable/i.test(error.message)) {
      return { status: "Succeed", log: `${to} is immutable at ${destination.describe}: skipped (${error.message})` };
    }
    throw error;
  }
  const { manifests, blobsCopied, blobsSkipped, blobsMounted, bytes } = copier.stats;
  return {
    status: "Succeed",
    log: `copied ${from} (${manifest.digest}) from ${source.describe} to ${to} at ${destination.describe}: ${manifests} manifest(s), ${blobsCopied} blob(s) sent (${bytes} bytes), ${blobsSkipped} already there, ${blobsMounted} mounted`,
  };
}

async function deleteOne(destination: Side, item: WorkItem): Promise<Outcome> {
  const target = `${item.destination}${item.reference.includes(":") ? "@" : ":"}${item.reference}`;
  let deleted: boolean;
  try {
    deleted = await destination.registry.deleteManifest(item.destination, item.reference);
  } catch (error) {
    // Registries without OCI 1.1 tag deletion (distribution 2.8) delete the tag's manifest by digest instead.
    if (!(error instanceof RemoteError) || item.reference.includes(":") || error.status === null || error.status >= 500) throw error;
    const digest = await destination.registry.manifestDigest(item.destination, item.reference);
    deleted = digest !== null && (await destination.registry.deleteManifest(item.destination, digest));
  }
  return { status: "Succeed", log: deleted ? `deleted ${target} at ${destination.describe}` : `${target} was already gone at ${destination.describe}` };
}

export function registerReplicationJob(scheduler: Scheduler, deps: ReplicationJobDeps): void {
  scheduler.registerJob(REPLICATION_JOB, async (job: JobContext) => {
    await deps.store.settleOrphans();
    const stored = await deps.store.get(job.vendorId);
    if (!stored) throw new Error(`replication policy ${job.vendorId} no longer exists`);
    const policy = stored.policy;
    const endpointId = (policy.srcRegistryId ?? policy.destRegistryId)!;
    const endpoint = await deps.registries.get(endpointId);
    if (!endpoint) throw new Error(`registry endpoint ${endpointId} no longer exists`);
    const { source, destination } = sidesOf(policy, endpoint, deps.registries, deps.local, `replication policy ${stored.id} (${policy.name}), execution ${job.executionId}`);
    const event = job.extra.event as ReplicationEvent | undefined;

    const { items, problems } = event ? { items: planEvent(policy, event), problems: [] } : await planFullRun(policy, source, destination, job);
    await job.log(`${event ? `event ${event.kind} ${event.repository}:${event.tag ?? event.digest}: ` : ""}${items.length} task(s) from ${source.describe} to ${destination.describe}`);
    const tasks = [];
    for (const item of items) {
      const resource = `${item.source}${item.reference.includes(":") ? "@" : ":"}${item.reference}`;
      const dst = `${item.destination}${item.reference.includes(":") ? "@" : ":"}${item.reference}`;
      tasks.push({ item, id: await deps.store.addTask({ execution_id: job.executionId, operation: item.operation, resource_type: "artifact", src_resource: resource, dst_resource: dst }) });
    }

    // A repository the policy cannot place is a failed task of its own, so the run's tasks tell the whole story.
    for (const problem of problems) {
      const taskId = await deps.store.addTask({ execution_id: job.executionId, operation: "copy", resource_type: "artifact", src_resource: problem.repository, dst_resource: "" });
      await deps.store.finishTask(taskId, "Failed", `${problem.message}\n`);
    }
    let failed = 0;
    await inParallel(tasks, TASK_CONCURRENCY, async ({ item, id }) => {
      if (job.signal.aborted) return deps.store.finishTask(id, "Stopped", "stopped before it started\n");
      await deps.store.startTask(id);
      let outcome: Outcome;
      try {
        outcome = item.operation === "copy" ? await copyOne(policy, source, destination, item) : await deleteOne(destination, item);
      } catch (error) {
        outcome = { status: "Failed", log: message(error) };
      }
      if (outcome.status === "Failed") failed += 1;
      await deps.store.finishTask(id, job.signal.aborted && outcome.status === "Failed" ? "Stopped" : outcome.status, `${new Date().toISOString()} ${outcome.log}\n`);
    });
    const failures = failed + problems.length;
    if (failures > 0) throw new Error(`${failures} of ${tasks.length + problems.length} task(s) failed; see the task logs`);
    return { message: `${tasks.length} task(s) succeeded`, metrics: { total: tasks.length } };
  });
}
