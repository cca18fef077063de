import { compileGlob, globMatches } from "../policy/doublestar";
import { isValidRepositoryName } from "../distribution/names";
import { harborCronProblem } from "../scheduler/cron";

export type TriggerType = "manual" | "scheduled" | "event_based";

export interface ReplicationFilters {
  /** Doublestar pattern over the full repository path. */
  name: string | null;
  tag: { pattern: string; decoration: "matches" | "excludes" } | null;
  resource: "image" | "artifact" | null;
  /**
   * Label names an artifact must all carry (matches) or must not all carry (excludes). Push-based policies only: the
   * labels are this registry's. Optional: policies stored before labels existed have none.
   */
  label?: { names: string[]; decoration: "matches" | "excludes" } | null;
}

export interface ReplicationPolicyInput {
  name: string;
  description: string;
  /** Exactly one side is remote: src set = pull-based, dest set = push-based. */
  srcRegistryId: number | null;
  destRegistryId: number | null;
  destNamespace: string;
  destNamespaceReplaceCount: number;
  trigger: { type: TriggerType; cron: string };
  filters: ReplicationFilters;
  override: boolean;
  deletion: boolean;
  enabled: boolean;
  /** KB/s per task; 0 = unlimited. */
  speed: number;
}

export class ReplicationPolicyError extends Error {}

function fail(message: string): never {
  throw new ReplicationPolicyError(message);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function registryId(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) fail(`${field} must be an object with an id`);
  const id = value.id ?? 0;
  if (!Number.isInteger(id) || (id as number) < 0) fail(`${field}.id must be a registry id`);
  return id === 0 ? null : (id as number);
}

function pattern(value: unknown, field: string): string {
  if (typeof value !== "string") fail(`${field} must be a doublestar pattern`);
  try {
    compileGlob(value);
  } catch {
    fail(`${field} ${JSON.stringify(value)} is not a valid pattern`);
  }
  if (/\{[^}]*\s[^}]*\}/.test(value)) fail(`${field}: no spaces inside {a,b} alternatives (they would never match)`);
  return value;
}

function decorationOf(filter: Record<string, unknown>, where: string): "matches" | "excludes" {
  const decoration = filter.decoration ?? "matches";
  if (decoration !== "matches" && decoration !== "excludes") fail(`${where}.decoration must be matches or excludes`);
  return decoration;
}

function labelNames(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((name) => typeof name === "string" && name.trim() !== "")) {
    fail(`${where} must be a list of label names`);
  }
  return value.map((name: string) => name.trim());
}

function parseFilters(value: unknown): ReplicationFilters {
  const filters: ReplicationFilters = { name: null, tag: null, resource: null, label: null };
  if (value === undefined || value === null) return filters;
  if (!Array.isArray(value)) fail("filters must be a list");
  value.forEach((filter, i) => {
    const where = `filters[${i}]`;
    if (!isObject(filter)) fail(`${where} must be an object`);
    switch (filter.type) {
      case "name":
        if (filter.decoration) fail(`${where}: a name filter takes no decoration`);
        filters.name = pattern(filter.value, `${where}.value`);
        break;
      case "tag":
        filters.tag = { pattern: pattern(filter.value, `${where}.value`), decoration: decorationOf(filter, where) };
        break;
      case "resource":
        if (filter.value !== "image" && filter.value !== "artifact") fail(`${where}.value must be image or artifact`);
        filters.resource = filter.value;
        break;
      case "label":
        filters.label = { names: labelNames(filter.value, `${where}.value`), decoration: decorationOf(filter, where) };
        break;
      default:
        fail(`${where}.type must be name, tag, label or resource`);
    }
  });
  return filters;
}

function parseTrigger(value: unknown, pushBased: boolean): { type: TriggerType; cron: string } {
  const trigger = isObject(value) ? value : { type: "manual" };
  const type = trigger.type ?? "manual";
  if (type !== "manual" && type !== "scheduled" && type !== "event_based") fail("trigger.type must be manual, scheduled or event_based");
  const settings = isObject(trigger.trigger_settings) ? trigger.trigger_settings : {};
  const cron = typeof settings.cron === "string" ? settings.cron : "";
  if (type === "scheduled") {
    const problem = harborCronProblem(cron);
    if (problem) fail(`trigger.trigger_settings.cron: ${problem}`);
    if (cron.trim().split(/\s+/)[1] === "*") fail("trigger.trigger_settings.cron: the minute field must not be * (that would start a run every minute)");
  }
  if (type === "event_based" && !pushBased) fail("event_based triggers need a push-based policy (dest_registry set): events are this registry's");
  return { type, cron: type === "scheduled" ? cron : "" };
}

function flag(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "boolean") fail(`${field} must be a boolean`);
  return value;
}

/** Validates Harbor's ReplicationPolicy body (HARBOR-MODEL §5.2); errors name the field. */
export function parseReplicationPolicy(body: Record<string, unknown>): ReplicationPolicyInput {
  const name = body.name;
  if (typeof name !== "string" || name.trim() === "" || name.length > 255) fail("name is required");
  const srcRegistryId = registryId(body.src_registry, "src_registry");
  const destRegistryId = registryId(body.dest_registry, "dest_registry");
  if ((srcRegistryId === null) === (destRegistryId === null)) fail("exactly one of src_registry and dest_registry must be set: the other side is this registry");
  const destNamespace = body.dest_namespace ?? "";
  if (typeof destNamespace !== "string" || (destNamespace !== "" && !isValidRepositoryName(destNamespace))) fail("dest_namespace must be a repository path (lowercase, / separated)");
  const replaceCount = body.dest_namespace_replace_count ?? -1;
  if (!Number.isInteger(replaceCount) || (replaceCount as number) < -1 || (replaceCount as number) > 127) fail("dest_namespace_replace_count must be -1 or 0..127");
  const filters = parseFilters(body.filters);
  if (filters.label && destRegistryId === null) fail("label filters need a push-based policy (dest_registry set): labels are this registry's");
  const speed = body.speed ?? 0;
  if (typeof speed !== "number" || !Number.isInteger(speed)) fail("speed must be an integer (KB/s, 0 = unlimited)");
  return {
    name,
    description: typeof body.description === "string" ? body.description : "",
    srcRegistryId,
    destRegistryId,
    destNamespace,
    destNamespaceReplaceCount: replaceCount as number,
    trigger: parseTrigger(body.trigger, destRegistryId !== null),
    filters,
    override: flag(body.override, "override", true),
    deletion: flag(body.deletion, "deletion", false),
    enabled: flag(body.enabled, "enabled", true),
    speed: Math.max(0, speed),
  };
}

/**
 * Where a source repository lands (HARBOR-MODEL §5.3): no namespace keeps the path; otherwise the namespace
 * replaces the first `count` components (-1, the legacy default: all but the last). Null when the path has too few
 * components to drop `count` of them.
 */
export function destinationRepository(source: string, namespace: string, count: number): string | null {
  if (namespace === "") return source;
  const components = source.split("/");
  const drop = count === -1 ? components.length - 1 : count;
  if (drop > components.length - 1) return null;
  return [namespace, ...components.slice(drop)].join("/");
}

/** Whether the policy's filters select `repository:tag` (tag null: an untagged artifact). */
export function filtersSelect(filters: ReplicationFilters, repository: string, tag: string | null): boolean {
  if (filters.name && !globMatches(repository, filters.name)) return false;
  if (!filters.tag) return true;
  const matched = tag === null ? filters.tag.pattern === "" : globMatches(tag, filters.tag.pattern);
  return filters.tag.decoration === "matches" ? matched : !matched;
}

/** Whether an artifact carrying `carried` passes the policy's label filter (Harbor: matches = carries all of them). */
export function labelsSelect(filters: ReplicationFilters, carried: string[]): boolean {
  if (!filters.label) return true;
  const all = filters.label.names.every((name) => carried.includes(name));
  return filters.label.decoration === "matches" ? all : !all;
}
