import { validateDetailed } from "node-cron";

const FIELDS = ["second", "minute", "hour", "day of month", "month", "day of week"];

/**
 * Why `cron` is not a Harbor schedule, or null when it is one: six fields with seconds first, the seconds field
 * "0" (Harbor runs jobs at most once a minute), and every field valid.
 */
export function harborCronProblem(cron: unknown): string | null {
  if (typeof cron !== "string" || cron.trim() === "") return "cron must be a non-empty string";
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 6) return `cron must have 6 fields (second minute hour day-of-month month day-of-week), got ${fields.length}`;
  if (fields[0] !== "0") return `the second field of cron must be 0, got "${fields[0]}"`;
  const { valid, errors } = validateDetailed(fields.join(" "));
  if (valid) return null;
  const first = errors[0];
  const index = FIELDS.indexOf(first?.field?.replace(/([A-Z])/g, " $1").toLowerCase() ?? "");
  const named = index >= 0 ? `the ${FIELDS[index]} field ("${fields[index]}")` : "cron";
  return `${named} is invalid: ${first?.message ?? "unparseable"}`;
}
