import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { migrate, type MigrateOptions, type MigrateReport } from "./migrate";

export const MIGRATE_USAGE = `usage: berth migrate --from URL --to URL[/project] [options]

  --from URL            source registry (any OCI v2 registry)
  --to URL[/project]    destination; repository a/b lands as project/a/b
  --src-creds U:P       credentials for the source
  --dest-creds U:P      credentials for the destination
  --include PATTERN     only repositories matching this doublestar pattern (repeatable)
  --repos-file FILE     repositories to copy, one per line, instead of the source's _catalog
  --jobs N              tags copied at the same time (default 4)
  --incremental         skip tags the destination already has at the same digest
  --dry-run             list what would be copied (and projects created), change nothing
  --report FILE         write the final report as JSON`;

class UsageError extends Error {}

function parseOptions(argv: string[]): MigrateOptions & { report?: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: "string" },
      to: { type: "string" },
      "src-creds": { type: "string" },
      "dest-creds": { type: "string" },
      include: { type: "string", multiple: true },
      "repos-file": { type: "string" },
      jobs: { type: "string" },
      incremental: { type: "boolean" },
      "dry-run": { type: "boolean" },
      report: { type: "string" },
    },
    strict: true,
  });
  for (const key of ["from", "to"] as const) {
    const value = values[key];
    if (!value) throw new UsageError(`--${key} is required`);
    if (!/^https?:\/\/[^/]+/.test(value)) throw new UsageError(`--${key} must be an http:// or https:// URL, got ${value}`);
  }
  const jobs = values.jobs === undefined ? 4 : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new UsageError(`--jobs must be a whole number from 1 to 64, got ${values.jobs}`);
  return {
    from: values.from!,
    to: values.to!,
    srcCreds: values["src-creds"],
    destCreds: values["dest-creds"],
    include: values.include ?? [],
    reposFile: values["repos-file"],
    jobs,
    incremental: values.incremental ?? false,
    dryRun: values["dry-run"] ?? false,
    report: values.report,
  };
}

function summary(report: MigrateReport, dryRun: boolean): string {
  const lines = [
    ...report.projectsCreated.map((project) => `${dryRun ? "would create" : "created"} project ${project} (private)`),
    `${dryRun ? "would copy" : "copied"} ${report.copied.length} tag(s) (${report.bytes} bytes sent, ${report.blobsSkipped} blob(s) already there), ` +
      `skipped ${report.skipped.length} already up to date, failed ${report.failed.length}`,
  ];
  for (const failure of report.failed) lines.push(`  failed ${failure.repository}:${failure.tag}: ${failure.error}`);
  if (dryRun) for (const item of report.copied) lines.push(`  ${item.repository}:${item.tag} → ${item.destination}:${item.tag}`);
  return `${lines.join("\n")}\n`;
}

/** `berth migrate`: exit 0 when everything was copied or up to date, 1 when something failed, 2 on bad usage. */
export async function runMigrate(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    process.stderr.write(`berth migrate: ${(error as Error).message}\n${MIGRATE_USAGE}\n`);
    return 2;
  }
  // The bar redraws in place on a terminal; elsewhere (CI logs) it prints a line now and then.
  const bar = new SingleBar({
    format: "{bar} {value}/{total} tags | {bytes} | ETA {eta_formatted} | {current}",
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 5000,
    hideCursor: true,
  });
  let bytes = 0;
  const report = await migrate(options, {
    total: (tags) => bar.start(tags, 0, { bytes: "0 B", current: "" }),
    tagDone: (outcome, kind, sent) => {
      bytes += sent;
      bar.increment({ bytes: `${(bytes / 1048576).toFixed(1)} MiB`, current: `${kind} ${outcome.repository}:${outcome.tag}` });
    },
  });
  bar.stop();
  process.stdout.write(summary(report, options.dryRun));
  if (options.report) await writeFile(options.report, `${JSON.stringify(report, null, 2)}\n`);
  return report.failed.length > 0 ? 1 : 0;
}
