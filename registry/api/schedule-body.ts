import { harborCronProblem } from "../scheduler/cron";
import { HarborError } from "./errors";
import { isJsonObject } from "./params";

// Harbor's schedule types and the crons they stand for (6 fields, seconds first).
const SCHEDULE_CRONS: Record<string, string | null> = {
  Hourly: "0 0 * * * *",
  Daily: "0 0 0 * * *",
  Weekly: "0 0 0 * * 0",
  None: null,
};

/**
 * Harbor's ScheduleObj `{type, cron}` (GC, scan all) → the cron to keep: null for None, "manual" for a run now.
 * 400 with the reason for anything else.
 */
export function parseSchedule(schedule: unknown): string | null | "manual" {
  if (!isJsonObject(schedule) || typeof schedule.type !== "string") throw new HarborError("BAD_REQUEST", "schedule.type is required");
  if (schedule.type === "Manual") return "manual";
  if (schedule.type === "Custom" || schedule.type === "Schedule") {
    const problem = harborCronProblem(schedule.cron);
    if (problem) throw new HarborError("BAD_REQUEST", `schedule.cron: ${problem}`);
    return schedule.cron as string;
  }
  if (!(schedule.type in SCHEDULE_CRONS)) {
    throw new HarborError("BAD_REQUEST", `schedule.type must be one of Manual, Hourly, Daily, Weekly, Custom, None; got "${schedule.type}"`);
  }
  return SCHEDULE_CRONS[schedule.type];
}

/** A stored schedule as Harbor shows it: the type its cron stands for (Custom for any other), None when unset. */
export function scheduleView(schedule: { cron: string } | null): { type: string; cron: string } {
  const type = schedule ? (Object.entries(SCHEDULE_CRONS).find(([, cron]) => cron === schedule.cron)?.[0] ?? "Custom") : "None";
  return { type, cron: schedule?.cron ?? "" };
}
