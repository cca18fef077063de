import { TOP_LEVEL } from "../artifacts/artifact-store";
import type { AuditLog } from "../audit/audit-log";
import type { Sql } from "../db/sql";
import type { DistributionMetadata } from "../distribution/metadata";
import type { EventPublisher } from "../events/events";
import type { ImmutableRules } from "../policy/immutable-rules";
import { isPublic, type ProjectStore } from "../projects/projects";
import type { JobContext, Scheduler } from "../scheduler/scheduler";
import { decide, type Candidate, type Decision } from "./decide";
import type { RetentionStore } from "./store";

export const RETENTION_JOB = "RETENTION";

export interface RetentionJobDeps {
  sql: Sql;
  retention: RetentionStore;
  projects: ProjectStore;
  metadata: DistributionMetadata;
  immutableRules: ImmutableRules;
  events: EventPublisher;
  audit: AuditLog;
}

interface ArtifactRow {
  repository_id: number;
  repository: string;
  digest: string;
  created_at: Date;
  pull_time: Date | null;
  tags: string[];
  labels: string[];
  tagged_at: Date | null;
}

/** The project's top-level artifacts, with times that count a tag's push as the artifact's (Harbor). */
async function candidatesOf(deps: RetentionJobDeps, projectId: number): Promise<(Candidate & { repositoryId: number; fullName: string })[]> {
  const rows = await deps.sql.query<ArtifactRow>(
    `SELECT r.id AS repository_id, r.name AS repository, m.digest, m.created_at, m.pull_time,
            coalesce(array_agg(t.name ORDER BY t.name) FILTER (WHERE t.name IS NOT NULL), '{}') AS tags, max(t.updated_at) AS tagged_at,
            coalesce((SELECT array_agg(l.name) FROM artifact_labels al JOIN labels l ON l.id = al.label_id
                       WHERE al.repository_id = r.id AND al.digest = m.digest), '{}') AS labels
       FROM repositories r JOIN manifests m ON m.repository_id = r.id
       LEFT JOIN tags t ON t.repository_id = m.repository_id AND t.digest = m.digest
      WHERE r.project_id = $1 AND ${TOP_LEVEL}
      GROUP BY r.id, r.name, m.digest, m.created_at, m.pull_time`,
    [projectId],
  );
  const candidates = [];
  for (const row of rows) {
    let immutable = false;
    for (const tag of row.tags) if (await deps.immutableRules.protecting(projectId, row.repository, tag)) immutable = true;
    candidates.push({
      repositoryId: row.repository_id,
      fullName: row.repository,
      repository: row.repository.slice(row.repository.indexOf("/") + 1),
      digest: row.digest,
      tags: row.tags,
      labels: row.labels,
      pushedAt: row.tagged_at && row.tagged_at > row.created_at ? row.tagged_at : row.created_at,
      pulledAt: row.pull_time,
      immutable,
    });
  }
  return candidates;
}

const TABLE_HEADER = "Digest | Tag | PushedTime | PulledTime | Retention | Reason";

/** Harbor's task log: one line per artifact with what was decided and why. */
function decisionTable(decisions: Decision[], dryRun: boolean): string {
  const header = TABLE_HEADER;
  const lines = decisions.map((d) =>
    [d.digest, d.tags.join(",") || "<none>", d.pushedAt.toISOString(), d.pulledAt?.toISOString() ?? "-", d.verdict === "DEL" && dryRun ? "DEL (dry run)" : d.verdict, d.reason].join(" | "),
  );
  return [header, ...lines].join("\n") + "\n";
}

/** One row of a task's decision table, as a client reads it. */
export interface DecisionRow {
  digest: string;
  tags: string[];
  pushed_time: string;
  pulled_time: string | null;
  /** RETAIN, DEL, "DEL (dry run)" or IMMUTABLE. */
  retention: string;
  reason: string;
}

/**
 * A task log's decision table read back into rows (the log is the task's only record). The first five cells never
 * hold " | " (digests, tag names, times, verdicts), so the reason is everything after them.
 */
export function parseDecisionTable(log: string): DecisionRow[] {
  return log
    .split("\n")
    .filter((line) => line !== "" && line !== TABLE_HEADER)
    .flatMap((line) => {
      const cells = line.split(" | ");
      if (cells.length < 6) return [];
      const [digest, tags, pushed, pulled, retention, ...reason] = cells;
      return [{ digest, tags: tags === "<none>" ? [] : tags.split(","), pushed_time: pushed, pulled_time: pulled === "-" ? null : pulled, retention, reason: reason.join(" | ") }];
    });
}

export function registerRetentionJob(scheduler: Scheduler, deps: RetentionJobDeps): void {
  scheduler.registerJob(RETENTION_JOB, async (job: JobContext) => {
    const stored = await deps.retention.get(job.vendorId);
    if (!stored) throw new Error(`retention policy ${job.vendorId} no longer exists`);
    const project = await deps.projects.findById(stored.project_id);
    if (!project) throw new Error(`project ${stored.project_id} no longer exists`);
    const dryRun = job.extra.dry_run === true;
    const candidates = await candidatesOf(deps, project.id);
    const plan = decide(stored.policy.rules, candidates, new Date());
    await job.log(`${dryRun ? "dry run: " : ""}${plan.decisions.length} artifact(s) in scope, repositories untouched: ${plan.untouched.join(", ") || "none"}`);
    const byRepository = new Map<string, Decision[]>();
    for (const decision of plan.decisions) byRepository.set(decision.repository, [...(byRepository.get(decision.repository) ?? []), decision]);
    const deleted: Decision[] = [];
    for (const [repository, decisions] of byRepository) {
      if (job.signal.aborted) break;
      const started = new Date();
      const fullName = `${project.name}/${repository}`;
      const repositoryId = candidates.find((c) => c.repository === repository)!.repositoryId;
      let status = "Success";
      if (!dryRun) {
        for (const decision of decisions.filter((d) => d.verdict === "DEL")) {
          if (job.signal.aborted) {
            status = "Stopped";
            break;
          }
          const entry = { projectId: project.id, operation: "delete", resourceType: "artifact", resource: `${fullName}@${decision.digest}`, description: `retention: ${decision.reason}` } as const;
          const actor = { username: "retention", clientIp: "", changeRef: `retention execution ${job.executionId}` };
          if (await deps.audit.change(actor, entry, (tx) => deps.metadata.deleteManifest(repositoryId, decision.digest, tx))) deleted.push(decision);
        }
      }
      await deps.retention.addTask({
        execution_id: job.executionId,
        repository: fullName,
        status,
        total: decisions.length,
        retained: decisions.filter((d) => d.verdict !== "DEL").length,
        log: decisionTable(decisions, dryRun),
        start_time: started,
      });
    }
    deps.metadata.forgetAll();
    const deleting = plan.decisions.filter((d) => d.verdict === "DEL");
    await deps.events.publish({
      type: "TAG_RETENTION",
      projectId: project.id,
      operator: "retention",
      occurredAt: new Date(),
      repository: null,
      resources: [],
      details: {
        retention: {
          total: plan.decisions.length,
          retained: plan.decisions.length - deleting.length,
          project_name: project.name,
          retention_policy_id: stored.id,
          dry_run: dryRun,
          deleted_artifact: (dryRun ? deleting : deleted).map((d) => ({ repository: `${project.name}/${d.repository}`, digest: d.digest, tags: d.tags })),
          public: isPublic(project),
        },
      },
    });
    return {
      message: `${dryRun ? "would delete" : "deleted"} ${dryRun ? deleting.length : deleted.length} of ${plan.decisions.length} artifact(s)`,
      metrics: { total: plan.decisions.length, deleted: dryRun ? 0 : deleted.length, candidates_for_deletion: deleting.length },
    };
  });
}
