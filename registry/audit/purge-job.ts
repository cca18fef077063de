import type { Queryable } from "../db/sql";
import { HarborError } from "../api/errors";
import type { Scheduler } from "../scheduler/scheduler";
import { AUDIT_OPERATIONS, AUDIT_RESOURCE_TYPES } from "./audit-log";

export const PURGE_AUDIT_JOB = "PURGE_AUDIT";
/** Audit purge is one system-wide job: its schedule and executions use this vendor id. */
export const PURGE_AUDIT_VENDOR_ID = 0;

/** Ten years: Harbor bounds audit_retention_hour; a larger value is a mistake, not a policy. */
const MAX_RETENTION_HOURS = 24 * 365 * 10;

/**
 * Harbor's audit event types, `<operation>_<resource type>` (create_artifact, pull_artifact, delete_project…): what
 * GET /auditlog-exts/events lists and purgeaudit's include_event_types names. Pulls exist for artifacts only.
 */
export const AUDIT_EVENT_TYPES: string[] = AUDIT_RESOURCE_TYPES.flatMap((type) =>
  AUDIT_OPERATIONS.filter((operation) => operation !== "pull" || type === "artifact").map((operation) => `${operation}_${type}`),
);

/** Harbor's purgeaudit parameters. include_event_types is a comma list; empty means every type. */
export interface PurgeParameters {
  audit_retention_hour: number;
  include_event_types: string;
  dry_run: boolean;
}

export function purgeParameters(extra: Record<string, unknown>): PurgeParameters {
  return {
    audit_retention_hour: typeof extra.audit_retention_hour === "number" ? extra.audit_retention_hour : 0,
    include_event_types: typeof extra.include_event_types === "string" ? extra.include_event_types : "",
    dry_run: extra.dry_run === true,
  };
}

/** Checks a request's parameters (400 with the reason): the retention is required, event types must exist. */
export function parsePurgeParameters(parameters: Record<string, unknown>): PurgeParameters {
  const hours = parameters.audit_retention_hour;
  if (typeof hours !== "number" || !Number.isInteger(hours) || hours < 1 || hours > MAX_RETENTION_HOURS) {
    throw new HarborError("BAD_REQUEST", `parameters.audit_retention_hour must be a whole number of hours from 1 to ${MAX_RETENTION_HOURS}`);
  }
  const types = parameters.include_event_types ?? "";
  if (typeof types !== "string") throw new HarborError("BAD_REQUEST", "parameters.include_event_types must be a comma-separated string of event types");
  const listed = eventTypesOf(types);
  const unknown = listed.filter((type) => !AUDIT_EVENT_TYPES.includes(type));
  if (unknown.length > 0) throw new HarborError("BAD_REQUEST", `unknown event types in include_event_types: ${unknown.join(", ")} (GET /api/v2.0/auditlog-exts/events lists them)`);
  if (parameters.dry_run !== undefined && typeof parameters.dry_run !== "boolean") throw new HarborError("BAD_REQUEST", "parameters.dry_run must be a boolean");
  return { audit_retention_hour: hours, include_event_types: listed.join(","), dry_run: parameters.dry_run === true };
}

function eventTypesOf(text: string): string[] {
  return text.split(",").map((type) => type.trim().toLowerCase()).filter((type) => type !== "");
}

/** Deletes (or with dry_run counts) the audit records older than the retention, of the listed event types or all. */
export function registerPurgeAuditJob(scheduler: Scheduler, db: Queryable): void {
  scheduler.registerJob(PURGE_AUDIT_JOB, async (job) => {
    const parameters = purgeParameters(job.extra);
    if (parameters.audit_retention_hour < 1) throw new Error("audit_retention_hour is missing");
    const types = eventTypesOf(parameters.include_event_types);
    const where = `op_time < now() - make_interval(hours => $1) AND ($2::text[] IS NULL OR operation || '_' || resource_type = ANY($2::text[]))`;
    const values = [parameters.audit_retention_hour, types.length > 0 ? types : null];
    const scope = `older than ${parameters.audit_retention_hour} hour(s)${types.length > 0 ? ` of types ${types.join(", ")}` : ""}`;
    await job.log(`${parameters.dry_run ? "counting" : "deleting"} audit records ${scope}`);
    const [{ count }] = parameters.dry_run
      ? await db.query<{ count: number }>(`SELECT count(*)::int AS count FROM audit_logs WHERE ${where}`, values)
      : await db.query<{ count: number }>(`WITH gone AS (DELETE FROM audit_logs WHERE ${where} RETURNING 1) SELECT count(*)::int AS count FROM gone`, values);
    await job.log(`${parameters.dry_run ? "would purge" : "purged"} ${count} record(s)`);
    return { message: `${parameters.dry_run ? "would purge" : "purged"} ${count} audit record(s) ${scope}`, metrics: { purged: parameters.dry_run ? 0 : count, matched: count } };
  });
}

// Hourly, as BERTH_AUDIT_RETENTION_DAYS purged before it became this job's default schedule.
const DEFAULT_CRON = "0 0 * * * *";
const SEEDED_MARKER = "audit_purge_default_schedule";

const seededParameters = (days: number): PurgeParameters => ({ audit_retention_hour: days * 24, include_event_types: "", dry_run: false });

/**
 * BERTH_AUDIT_RETENTION_DAYS is the default schedule: with it set, an hourly purge of records older than that is
 * scheduled. A marker row remembers what was seeded, so a schedule an admin changed or removed through the API is
 * not overruled at the next start, while a changed variable still moves a schedule nobody touched.
 */
export async function seedDefaultPurgeSchedule(db: Queryable, scheduler: Scheduler, days: number | undefined): Promise<void> {
  if (days === undefined) return;
  // The marker lives with the other cluster-wide internal values (the `settings` table, text values).
  const [row] = await db.query<{ value: string }>("SELECT value FROM settings WHERE key = $1", [SEEDED_MARKER]);
  const marker = row ? { value: Number(row.value) } : undefined;
  if (marker?.value === days) return;
  const schedule = await scheduler.scheduleOf(PURGE_AUDIT_JOB, PURGE_AUDIT_VENDOR_ID);
  const untouched = marker
    ? schedule?.cron === DEFAULT_CRON && JSON.stringify(purgeParameters(schedule.params)) === JSON.stringify(seededParameters(marker.value))
    : schedule === null;
  await db.query(
    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2",
    [SEEDED_MARKER, String(days)],
  );
  if (untouched) await scheduler.setSchedule(PURGE_AUDIT_JOB, PURGE_AUDIT_VENDOR_ID, DEFAULT_CRON, { ...seededParameters(days) });
}
