import { readFile } from "node:fs/promises";
import { globMatcher } from "../policy/doublestar";
import { ArtifactCopier } from "../replication/copier";
import { inParallel } from "../replication/parallel";
import { RemoteProjects } from "../replication/remote-projects";
import { errorMessage as message, RemoteRegistry } from "../replication/remote-registry";

export interface MigrateOptions {
  from: string;
  /** Destination registry URL; its path, if any, is the namespace (Berth project) repositories land under. */
  to: string;
  srcCreds?: string;
  destCreds?: string;
  /** Doublestar patterns over source repository names; none = everything. */
  include: string[];
  jobs: number;
  /** Skip tags whose digest the destination already has under that tag. */
  incremental: boolean;
  dryRun: boolean;
  reposFile?: string;
}

export interface TagOutcome {
  repository: string;
  destination: string;
  tag: string;
  digest?: string;
  error?: string;
}

export interface MigrateReport {
  /** Projects created at a Harbor or Berth destination (with --dry-run: those that would be). */
  projectsCreated: string[];
  copied: TagOutcome[];
  skipped: TagOutcome[];
  failed: TagOutcome[];
  bytes: number;
  blobsSkipped: number;
}

/** Told about progress: repositories and tags as they are found and finished, bytes as they move. */
export interface MigrateProgress {
  total(tags: number): void;
  tagDone(outcome: TagOutcome, kind: "copied" | "skipped" | "failed", bytes: number): void;
}

/** `http://dst:5000/team` → the registry and the namespace `team` ("" for none). */
export function splitDestination(to: string): { registry: string; namespace: string } {
  const url = new URL(to);
  const namespace = url.pathname.replace(/^\/+|\/+$/g, "");
  return { registry: `${url.protocol}//${url.host}`, namespace };
}

async function sourceRepositories(source: RemoteRegistry, options: MigrateOptions): Promise<string[]> {
  const names = options.reposFile
    ? (await readFile(options.reposFile, "utf8")).split("\n").map((line) => line.trim()).filter((line) => line && !line.startsWith("#"))
    : await source.catalog();
  if (options.include.length === 0) return names.sort();
  const matchers = options.include.map((pattern) => globMatcher(pattern));
  return names.filter((name) => matchers.some((matches) => matches(name))).sort();
}

/**
 * Makes sure every project the copies land in exists at a Harbor or Berth destination, creating missing ones
 * (private) as replication does, before anything is copied; with `dryRun` it only finds those it would create. A
 * registry without the projects API (docker-registry) is left as it is. Returns the projects that could not be
 * made, with the reason, so their tags fail with it instead of with a refused push.
 */
async function prepareProjects(projects: RemoteProjects, names: string[], dryRun: boolean, report: MigrateReport): Promise<Map<string, string>> {
  const problems = new Map<string, string>();
  try {
    if (names.length === 0 || !(await projects.available())) return problems;
  } catch (error) {
    for (const name of names) problems.set(name, message(error));
    return problems;
  }
  for (const name of names) {
    try {
      if (dryRun ? !(await projects.exists(name)) : (await projects.ensure(name)) === "created") report.projectsCreated.push(name);
    } catch (error) {
      problems.set(name, message(error));
    }
  }
  return problems;
}

/**
 * Copies repositories and their tags from one registry to another (`berth migrate`). Re-running it is cheap and
 * safe: with `incremental`, a tag the destination already has at the same digest is skipped, and blobs the
 * destination holds are never sent again, so an interrupted run resumes where it stopped.
 */
export async function migrate(options: MigrateOptions, progress: MigrateProgress): Promise<MigrateReport> {
  const source = new RemoteRegistry(options.from, { credentials: options.srcCreds });
  const { registry, namespace } = splitDestination(options.to);
  const destination = new RemoteRegistry(registry, { credentials: options.destCreds });
  const report: MigrateReport = { projectsCreated: [], copied: [], skipped: [], failed: [], bytes: 0, blobsSkipped: 0 };

  const work: TagOutcome[] = [];
  for (const repository of await sourceRepositories(source, options)) {
    const target = namespace ? `${namespace}/${repository}` : repository;
    for (const tag of (await source.tags(repository)).sort()) work.push({ repository, destination: target, tag });
  }
  progress.total(work.length);
  const projectOf = (item: TagOutcome) => item.destination.split("/")[0];
  const projectNames = [...new Set(work.filter((item) => item.destination.includes("/")).map(projectOf))];
  const projects = new RemoteProjects({ url: registry, credentials: options.destCreds, describe: registry });
  const projectProblems = await prepareProjects(projects, projectNames, options.dryRun, report);
  // A project a dry run would create holds nothing yet: there is nothing to compare its tags with.
  const absent = new Set(options.dryRun ? report.projectsCreated : []);

  await inParallel(work, options.jobs, async (item) => {
    const finish = (kind: "copied" | "skipped" | "failed", outcome: TagOutcome, bytes = 0) => {
      report[kind].push(outcome);
      report.bytes += bytes;
      progress.tagDone(outcome, kind, bytes);
    };
    const projectProblem = projectProblems.get(projectOf(item));
    if (projectProblem !== undefined) return finish("failed", { ...item, error: projectProblem });
    try {
      const digest = await source.manifestDigest(item.repository, item.tag);
      if (digest === null) return finish("failed", { ...item, error: `${options.from}: ${item.repository}:${item.tag} disappeared from the source` });
      if (options.incremental && !absent.has(projectOf(item)) && (await destination.manifestDigest(item.destination, item.tag)) === digest) {
        return finish("skipped", { ...item, digest });
      }
      if (options.dryRun) return finish("copied", { ...item, digest });
      const copier = new ArtifactCopier({ registry: source, repository: item.repository }, { registry: destination, repository: item.destination });
      await copier.copy(digest, item.tag);
      report.blobsSkipped += copier.stats.blobsSkipped;
      finish("copied", { ...item, digest }, copier.stats.bytes);
    } catch (error) {
      finish("failed", { ...item, error: message(error) });
    }
  });
  return report;
}
