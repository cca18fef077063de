import { useState } from "preact/hooks";

/** Harbor's schedule types and the 6-field crons (seconds first) they stand for; Custom takes any cron. */
const SCHEDULE_CRONS: Record<string, string> = { Hourly: "0 0 * * * *", Daily: "0 0 0 * * *", Weekly: "0 0 0 * * 0" };
const TYPES = ["None", "Hourly", "Daily", "Weekly", "Custom"];

/** The type a stored cron stands for ("" → None, an unknown one → Custom), as Harbor's portal shows it. */
export function scheduleTypeOf(cron: string): string {
  if (!cron) return "None";
  return Object.entries(SCHEDULE_CRONS).find(([, c]) => c === cron)?.[0] ?? "Custom";
}

/** The cron a form's `type` and `cron` fields ask for: "" for None. */
export function cronOf(form: FormData): string {
  const type = String(form.get("type") ?? "None");
  return type === "Custom" ? String(form.get("cron") ?? "").trim() : (SCHEDULE_CRONS[type] ?? "");
}

/** A schedule's fields inside a form (`type`, and `cron` when Custom), labelled `label`. */
export function ScheduleFields(props: { id: string; label: string; cron: string }) {
  const [type, setType] = useState(scheduleTypeOf(props.cron));
  return (
    <div class="field-row">
      <div>
        <label for={`${props.id}-type`}>{props.label}</label>
        <select id={`${props.id}-type`} name="type" value={type} onChange={(event) => setType((event.currentTarget as HTMLSelectElement).value)}>
          {TYPES.map((t) => (
            <option value={t}>{t}</option>
          ))}
        </select>
      </div>
      {type === "Custom" ? (
        <div>
          <label for={`${props.id}-cron`}>Cron (6 fields, seconds first)</label>
          <input id={`${props.id}-cron`} name="cron" required value={props.cron || "0 0 3 * * *"} />
        </div>
      ) : null}
    </div>
  );
}
