import { access, readFile, stat } from "node:fs/promises";
import path from "node:path";
import Ajv, { type ErrorObject } from "ajv";
import addFormats from "ajv-formats";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import projectsSchema from "../../policies/schemas/projects.schema.json";
import membersSchema from "../../policies/schemas/members.schema.json";
import { harborCronProblem } from "../../registry/scheduler/cron";
import { compileGlob } from "../../registry/policy/doublestar";
import { dnProblem, normalDn } from "./dn";
import { fastYaml } from "./fast-yaml";
import { labelKey, memberKey, parseSize, rfc3339Seconds, type DesiredConfiguration, type DesiredLabel, type DesiredMember, type MemberKind, type DesiredProject, type Policy, type Replication, type RoleName, type SecretReference } from "./model";

/** A position in a policy file (1-based). */
export interface Position {
  file: string;
  line: number;
  col: number;
}

/** One thing wrong in a policy file, where it is; line 0 for the repository as a whole (`file` is its directory). */
export interface Problem extends Position {
  message: string;
  /** A warning does not stop anything (a secret that this machine cannot read, say). */
  severity?: "warning";
}

export function formatProblem(problem: Problem): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}:${problem.col}` : problem.file;
  return `${where}: ${problem.severity === "warning" ? "warning: " : ""}${problem.message}`;
}

export class PolicyError extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join("\n"));
  }
}

/** In file order, then by position. */
function sortProblems(problems: Problem[]): Problem[] {
  const order: string[] = Object.values(POLICY_FILES);
  return [...problems].sort((a, b) => order.indexOf(a.file) - order.indexOf(b.file) || a.line - b.line || a.col - b.col);
}

export const POLICY_FILES = { projects: "projects.yaml", members: "members.yaml" } as const;

// Harbor's largest storage limit: 1024 TiB.
const MAX_STORAGE_LIMIT = 1024 * 1024 ** 4;

const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
addFormats(ajv);
// A oneOf's own message for the files' author (editors show it too): its branches' errors say less.
ajv.addVocabulary(["errorMessage"]);
const validators = { projects: ajv.compile(projectsSchema), members: ajv.compile(membersSchema) };

/**
 * A parsed policy file: its data and a way to turn a path inside it into file:line:col. The data comes from the fast
 * reader (fast-yaml.ts) when it can read the text; the `yaml` document with positions is built only when something
 * asks where a path is (a problem to report), or from the start when the fast reader leaves the text to `yaml`. Both
 * read the same text, so the positions are the ones a full parse gives.
 */
class SourceFile {
  readonly problems: Problem[] = [];
  readonly data: Record<string, unknown>;
  private parsed: { document: Document; lines: LineCounter } | null = null;

  constructor(
    readonly name: string,
    private readonly text: string,
  ) {
    const fast = fastYaml(text);
    const value = fast ? fast.data : this.document().toJS();
    this.data = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  }

  /** `yaml`'s document with positions; its syntax errors and warnings become the file's first problems. */
  private document(): Document {
    return this.positions().document;
  }

  private positions(): { document: Document; lines: LineCounter } {
    if (this.parsed) return this.parsed;
    const lines = new LineCounter();
    const document = parseDocument(this.text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
    this.parsed = { document, lines };
    for (const error of [...document.errors, ...document.warnings]) {
      const { line, col } = lines.linePos(error.pos[0]);
      this.problems.push({ file: this.name, line, col, message: error.message.split("\n")[0] });
    }
    return this.parsed;
  }

  /** Records a problem at the node `at` (a path of keys and indexes), or at its key when `key` is set. */
  report(at: (string | number)[], message: string, key = false): void {
    const position = this.position(at, key);
    this.problems.push({ ...position, message });
  }

  position(at: (string | number)[], key = false): Position {
    const node = key ? this.keyNode(at) : this.node(at);
    const { line, col } = this.positions().lines.linePos(node?.range?.[0] ?? 0);
    return { file: this.name, line, col };
  }

  private node(at: (string | number)[]): Node | null {
    // The deepest node that exists along the path: a missing key is reported at its parent.
    const document = this.document();
    for (let depth = at.length; depth >= 0; depth--) {
      const node = depth === 0 ? document.contents : document.getIn(at.slice(0, depth), true);
      if (node && typeof node === "object" && "range" in node) return node as Node;
    }
    return null;
  }

  private keyNode(at: (string | number)[]): Node | null {
    const document = this.document();
    const parent = at.length > 1 ? document.getIn(at.slice(0, -1), true) : document.contents;
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === at[at.length - 1]);
      if (pair && isScalar(pair.key)) return pair.key;
    }
    return this.node(at);
  }
}

async function readSource(dir: string, file: string): Promise<SourceFile> {
  let text = "";
  try {
    text = await readFile(path.join(dir, file), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return new SourceFile(file, text);
}

/** Where `at` (a path of keys and indexes) is in `file` of the repository `dir`, for a message about the files. */
export async function positionIn(dir: string, file: string, at: (string | number)[], key = false): Promise<Position> {
  return (await readSource(dir, file)).position(at, key);
}

/** JSON pointer `/projects/0/name` → ["projects", 0, "name"]. */
function pointerPath(pointer: string): (string | number)[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function schemaMessage(error: ErrorObject): string {
  const where = error.instancePath === "" ? "the file" : error.instancePath.slice(1).replace(/\//g, ".");
  switch (error.keyword) {
    case "additionalProperties":
      return `${where}: unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`;
    case "required":
      return `${where}: missing required field "${(error.params as { missingProperty: string }).missingProperty}"`;
    case "enum":
      return `${where}: must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
    case "pattern":
      // A secret typed into a reference field must not be repeated in logs and pull-request comments.
      if (/(secret|password)From$/.test(error.instancePath)) return `${where}: must be a reference, env:NAME or file:PATH (never the secret itself)`;
      return `${where}: ${JSON.stringify(error.data)} does not match ${(error.params as { pattern: string }).pattern}`;
    default:
      return `${where}: ${error.message}`;
  }
}

function checkSchema(source: SourceFile, validate: (typeof validators)["projects"]): boolean {
  if (source.problems.length > 0) return false; // YAML syntax errors first: the data is not what the author meant
  if (validate(source.data)) return true;
  // oneOf reports each branch; the branch errors say more than "must match exactly one schema", unless the schema
  // has an errorMessage for it, which replaces every error at or under that place.
  const explained = new Map<string, string>();
  for (const error of validate.errors ?? []) {
    const message = (error.parentSchema as { errorMessage?: string } | undefined)?.errorMessage;
    if (error.keyword === "oneOf" && message) explained.set(error.instancePath, message);
  }
  const underExplained = (pointer: string) => [...explained.keys()].some((at) => pointer === at || pointer.startsWith(`${at}/`));
  for (const [pointer, message] of explained) {
    source.report(pointerPath(pointer), `${pointer.slice(1).replace(/\//g, ".")}: ${message}`);
  }
  const errors = (validate.errors ?? []).filter((error) => (error.keyword !== "oneOf" || validate.errors!.length === 1) && !underExplained(error.instancePath));
  const seen = new Set<string>();
  for (const error of errors) {
    const message = schemaMessage(error);
    if (seen.has(message)) continue;
    seen.add(message);
    const at = pointerPath(error.instancePath);
    if (error.keyword === "additionalProperties") {
      source.report([...at, (error.params as { additionalProperty: string }).additionalProperty], message, true);
    } else {
      source.report(at, message);
    }
  }
  return false;
}

/** Reports every second occurrence of a name (`key` of item i) at that item. */
function checkUnique<T>(source: SourceFile, items: T[], key: (item: T) => string, at: (index: number) => (string | number)[], what: string): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const name = key(item);
    if (first.has(name)) source.report(at(i), `duplicate ${what} "${name}" (first declared at item ${first.get(name)! + 1})`);
    else first.set(name, i);
  });
}

function checkPattern(source: SourceFile, at: (string | number)[], value: string): void {
  try {
    compileGlob(value);
  } catch {
    source.report(at, `${JSON.stringify(value)} is not a valid doublestar pattern`);
  }
  if (/\{[^}]*\s[^}]*\}/.test(value)) source.report(at, `${JSON.stringify(value)}: no spaces inside {a,b} alternatives (they would never match)`);
}

/**
 * `expiresAt` (schema-checked: a date or an RFC 3339 time) as RFC 3339 UTC to the second; a date alone is the start
 * of that day in UTC (the registry keeps whole seconds, so a plan compares what it will read back).
 */
export function allowlistExpiry(value: string): string {
  const time = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  return rfc3339Seconds(Date.parse(time) / 1000);
}

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- schema-validated YAML

function projectsOf(source: SourceFile, raw: Raw, registryNames: Set<string>): { projects: DesiredProject[]; replications: Replication[] } {
  const projects: DesiredProject[] = [];
  const replications: Replication[] = [];
  (raw.projects ?? []).forEach((project: Raw, i: number) => {
    const at = ["projects", i];
    const storageLimit = project.storageLimit === undefined ? null : parseSize(project.storageLimit);
    if (project.storageLimit !== undefined && (storageLimit === null || storageLimit === 0 || storageLimit > MAX_STORAGE_LIMIT)) {
      source.report([...at, "storageLimit"], `storageLimit ${JSON.stringify(project.storageLimit)} must be -1/unlimited or a size up to 1024TiB`);
    }
    (project.immutableTags ?? []).forEach((rule: Raw, r: number) => {
      checkPattern(source, [...at, "immutableTags", r, "tags"], rule.tags);
      if (rule.repositories !== undefined) checkPattern(source, [...at, "immutableTags", r, "repositories"], rule.repositories);
    });
    if (project.retention) {
      const schedule = project.retention.schedule ?? "";
      const problem = schedule === "" ? null : harborCronProblem(schedule);
      if (problem) source.report([...at, "retention", "schedule"], `retention schedule: ${problem}`);
      (project.retention.rules as Raw[]).forEach((rule, r) => {
        const ruleAt = [...at, "retention", "rules", r];
        if (rule.template !== "always" && typeof rule.params?.[rule.template] !== "number") {
          source.report(ruleAt, `template ${rule.template} needs params.${rule.template}`);
        }
        checkPattern(source, [...ruleAt, "repositories"], rule.repositories);
        checkPattern(source, [...ruleAt, "tags"], rule.tags);
      });
    }
    (project.replication ?? []).forEach((policy: Raw, r: number) => {
      const policyAt = [...at, "replication", r];
      if (!registryNames.has(policy.registry)) source.report([...policyAt, "registry"], `unknown registry "${policy.registry}" (declare it under registries:)`);
      const trigger = policy.trigger ?? { type: "manual" };
      if (trigger.type === "scheduled") {
        const problem = harborCronProblem(trigger.cron ?? "");
        if (problem) source.report([...policyAt, "trigger"], `replication schedule: ${problem}`);
      }
      if (trigger.type === "event_based" && policy.direction !== "push") source.report([...policyAt, "trigger"], "event_based triggers need direction: push (events are this registry's)");
      const filters = policy.filters ?? {};
      for (const field of ["repositories", "tags"]) if (filters[field] !== undefined) checkPattern(source, [...policyAt, "filters", field], filters[field]);
      replications.push({
        name: policy.name,
        project: project.name,
        direction: policy.direction,
        registry: policy.registry,
        repositories: filters.repositories ?? "**",
        tags: filters.tags ?? "**",
        trigger: { type: trigger.type, cron: trigger.type === "scheduled" ? trigger.cron : "" },
        destNamespace: policy.destNamespace ?? "",
        override: policy.override ?? true,
        deletion: policy.deletion ?? false,
        enabled: policy.enabled ?? true,
        speed: policy.speed ?? 0,
      });
    });
    const expiresAt = project.cveAllowlist?.expiresAt === undefined ? null : allowlistExpiry(project.cveAllowlist.expiresAt);
    projects.push({
      name: project.name,
      public: project.public ?? false,
      storageLimit: storageLimit ?? null,
      immutableTags:
        project.immutableTags === undefined ? null : project.immutableTags.map((rule: Raw) => ({ repositories: rule.repositories ?? "**", tags: rule.tags, disabled: rule.disabled ?? false })),
      retention:
        project.retention === undefined
          ? null
          : {
              schedule: project.retention.schedule ?? "",
              rules: project.retention.rules.map((rule: Raw) => ({
                template: rule.template,
                params: rule.params ?? {},
                repositories: rule.repositories,
                tags: rule.tags,
                untagged: rule.untagged ?? true,
                disabled: rule.disabled ?? false,
              })),
            },
      autoScan: project.autoScan ?? null,
      preventVulnerable: project.preventVulnerable === undefined ? null : project.preventVulnerable === false || project.preventVulnerable === "off" ? "off" : project.preventVulnerable.severity,
      cveAllowlist: project.cveAllowlist === undefined ? null : { items: [...(project.cveAllowlist.items as string[])].sort(), expiresAt },
    });
  });
  checkUnique(source, projects, (p) => p.name, (i) => ["projects", i, "name"], "project");
  // Replication policies are system-wide in Harbor: names are unique across projects.
  const replicationAt: (string | number)[][] = [];
  (raw.projects ?? []).forEach((project: Raw, i: number) => (project.replication ?? []).forEach((_: unknown, r: number) => replicationAt.push(["projects", i, "replication", r, "name"])));
  checkUnique(source, replications, (r) => r.name, (i) => replicationAt[i], "replication policy");
  return { projects, replications };
}

/** Global labels (top-level `labels:`) and each project's; a name is declared once per scope. */
function labelsOf(source: SourceFile, raw: Raw): DesiredLabel[] {
  const labels: DesiredLabel[] = [];
  const scopes: [string | null, Raw[], (string | number)[]][] = [
    [null, raw.labels ?? [], ["labels"]],
    ...((raw.projects ?? []) as Raw[]).map((project, i): [string, Raw[], (string | number)[]] => [project.name, project.labels ?? [], ["projects", i, "labels"]]),
  ];
  for (const [project, declared, at] of scopes) {
    const scope = declared.map((label: Raw) => ({ name: label.name as string, project, description: label.description ?? "", color: label.color ?? "" }));
    checkUnique(source, scope, labelKey, (i) => [...at, i, "name"], project === null ? "global label" : `label of ${project}`);
    labels.push(...scope);
  }
  return labels;
}

const MEMBER_KINDS: MemberKind[] = ["user", "group", "ldapGroup"];

/**
 * One entry of `members:` (schema-checked): exactly one of user, group or ldapGroup, named (a DN well-formed), or
 * null with the problem reported at it.
 */
function memberOf(source: SourceFile, project: string, entry: Raw, at: (string | number)[]): { member: DesiredMember; at: (string | number)[] } | null {
  const given = MEMBER_KINDS.filter((kind) => entry[kind] !== undefined);
  if (given.length !== 1) {
    source.report(at, `members.${project}.${at[2]}: ${given.length === 0 ? "give" : `${given.join(" and ")} are both set: give`} exactly one of user, group (OIDC) or ldapGroup (a DN)`);
    return null;
  }
  const kind = given[0];
  const name = entry[kind] as string;
  const where = [...at, kind];
  const problem =
    name.trim() === ""
      ? "must not be empty"
      : name !== name.trim()
        ? `${JSON.stringify(name)} has spaces around it`
        : kind === "group" && /\p{Cc}/u.test(name)
          ? "must not hold control characters"
          : kind === "user" && /^(group|ldapGroup):/.test(name)
            ? `a username starting with "${name.split(":")[0]}:" would read as a group in plans`
            : kind === "ldapGroup" && dnProblem(name)
              ? `not a distinguished name: ${dnProblem(name)}`
              : null;
  if (problem) {
    source.report(where, `members.${project}.${at[2]}.${kind}: ${problem}`);
    return null;
  }
  return { member: { project, kind, name, role: entry.role as RoleName }, at: where };
}

/**
 * Why `dir` is not a policy repository at all, or null: it must be a directory holding at least one of the files (a
 * mistyped path must not read as "nothing declared").
 */
async function repositoryProblem(dir: string): Promise<Problem | null> {
  const problem = (message: string): Problem => ({ file: dir, line: 0, col: 0, message });
  try {
    if (!(await stat(dir)).isDirectory()) return problem("not a directory");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return problem(code === "ENOENT" ? "no such directory" : `cannot read the directory (${code ?? (error as Error).message})`);
  }
  const present = await Promise.all(Object.values(POLICY_FILES).map((file) => access(path.join(dir, file)).then(() => true, () => false)));
  if (!present.includes(true)) return problem(`neither ${POLICY_FILES.projects} nor ${POLICY_FILES.members} is there: not a policy repository`);
  return null;
}

/** Where the files refer to secrets, and what each is for. */
function secretReferences(
  projectsFile: SourceFile,
  membersFile: SourceFile,
  { registries, users, robots }: Pick<Policy, "registries" | "users" | "robots">,
): SecretReference[] {
  const references: SecretReference[] = [];
  const add = (kind: SecretReference["kind"], key: string, reference: string | null, source: SourceFile, at: (string | number)[]) => {
    if (!reference) return;
    // Where it is, when asked (a warning about it): working positions out parses the file again with `yaml`.
    let position: Position | undefined;
    const where = () => (position ??= source.position(at, true));
    const located = { kind, key, reference, field: at.join("."), file: source.name } as SecretReference;
    Object.defineProperties(located, { line: { get: () => where().line, enumerable: true }, col: { get: () => where().col, enumerable: true } });
    references.push(located);
  };
  registries.forEach((r, i) => add("registry", r.name, r.secretFrom, projectsFile, ["registries", i, "credentials", "secretFrom"]));
  users.forEach((u, i) => add("user", u.username, u.passwordFrom, membersFile, ["users", i, "passwordFrom"]));
  robots.forEach((r, i) => add("robot", `${r.project}+${r.name}`, r.secretFrom, membersFile, ["robots", i, "secretFrom"]));
  return references;
}

/**
 * Reads `projects.yaml` and `members.yaml` from `dir`, checks them against the JSON Schemas and the rules a schema
 * cannot express (references, duplicates, cron, patterns, sizes), and returns the desired state. Every problem is
 * reported with its file, line and column; any problem means no policy (nothing is applied from a broken repo). A
 * directory that does not exist, or holds neither file, is a problem too.
 */
/** The `configuration:` section (already schema-checked): sizes in bytes, the rest as written. */
function configurationOf(source: SourceFile, raw: Raw): DesiredConfiguration {
  const configuration: DesiredConfiguration = { ...((raw.configuration ?? {}) as DesiredConfiguration) };
  if (configuration.storage_per_project !== undefined) {
    const bytes = parseSize(configuration.storage_per_project);
    if (bytes === null || bytes === 0 || bytes > MAX_STORAGE_LIMIT) {
      source.report(["configuration", "storage_per_project"], `storage_per_project ${JSON.stringify(configuration.storage_per_project)} must be -1/unlimited or a size up to 1024TiB`);
    } else configuration.storage_per_project = bytes;
  }
  return configuration;
}

export async function loadPolicy(dir: string): Promise<Policy> {
  const notRepository = await repositoryProblem(dir);
  if (notRepository) throw new PolicyError([notRepository]);
  const projectsFile = await readSource(dir, POLICY_FILES.projects);
  const membersFile = await readSource(dir, POLICY_FILES.members);
  const projectsValid = checkSchema(projectsFile, validators.projects);
  const membersValid = checkSchema(membersFile, validators.members);
  if (!projectsValid || !membersValid) throw new PolicyError(sortProblems([...projectsFile.problems, ...membersFile.problems]));

  const rawProjects = projectsFile.data as Raw;
  const rawMembers = membersFile.data as Raw;
  const registries = ((rawProjects.registries ?? []) as Raw[]).map((registry) => ({
    name: registry.name as string,
    type: registry.type ?? "docker-registry",
    url: (registry.url as string).replace(/\/+$/, ""),
    description: registry.description ?? "",
    insecure: registry.insecure ?? false,
    accessKey: registry.credentials?.accessKey ?? "",
    secretFrom: registry.credentials?.secretFrom ?? null,
  }));
  checkUnique(projectsFile, registries, (r) => r.name, (i) => ["registries", i, "name"], "registry");
  const { projects, replications } = projectsOf(projectsFile, rawProjects, new Set(registries.map((r) => r.name)));
  const projectNames = new Set(projects.map((p) => p.name));
  const labels = labelsOf(projectsFile, rawProjects);

  const users = ((rawMembers.users ?? []) as Raw[]).map((user) => ({
    username: user.username as string,
    email: user.email as string,
    realname: user.realname ?? "",
    admin: user.admin ?? false,
    passwordFrom: user.passwordFrom ?? null,
  }));
  checkUnique(membersFile, users, (u) => u.username, (i) => ["users", i, "username"], "user");

  const members: DesiredMember[] = [];
  const memberProjects = Object.keys(rawMembers.members ?? {});
  for (const project of memberProjects) {
    if (!projectNames.has(project)) membersFile.report(["members", project], `unknown project "${project}" (declare it in ${POLICY_FILES.projects})`, true);
    const entries = (rawMembers.members[project] as Raw[]).map((entry, i) => memberOf(membersFile, project, entry, ["members", project, i]));
    for (const entry of entries) if (entry) members.push(entry.member);
    // One LDAP group under two spellings of its DN is one group to the registry.
    const entityOf = (member: DesiredMember) => memberKey(member.kind === "ldapGroup" ? { ...member, name: normalDn(member.name) } : member).slice(project.length + 1);
    let invalid = 0; // entries already reported are never each other's duplicates
    checkUnique(membersFile, entries, (entry) => (entry ? entityOf(entry.member) : `\0${invalid++}`), (i) => entries[i]?.at ?? ["members", project, i], `member of ${project}`);
  }

  const robots = ((rawMembers.robots ?? []) as Raw[]).map((robot, i) => {
    if (!projectNames.has(robot.project)) membersFile.report(["robots", i, "project"], `unknown project "${robot.project}" (declare it in ${POLICY_FILES.projects})`);
    if (robot.duration === 0) membersFile.report(["robots", i, "duration"], "duration must be -1 (never expires) or a number of days");
    return { name: robot.name as string, project: robot.project as string, description: robot.description ?? "", access: robot.access, duration: robot.duration ?? -1, secretFrom: robot.secretFrom ?? null };
  });
  checkUnique(membersFile, robots, (r) => `${r.project}+${r.name}`, (i) => ["robots", i, "name"], "robot");

  const configuration = configurationOf(projectsFile, rawProjects);
  const problems = [...projectsFile.problems, ...membersFile.problems];
  if (problems.length > 0) throw new PolicyError(sortProblems(problems));
  const controller = (rawProjects.controller ?? {}) as Raw;
  return {
    settings: { prune: controller.prune ?? false, drift: controller.drift ?? "correct", adopt: controller.adopt ?? false, allowDeleteAll: controller.allowDeleteAll ?? false },
    configuration,
    registries,
    users,
    projects,
    labels,
    memberProjects,
    members,
    robots,
    replications,
    secrets: secretReferences(projectsFile, membersFile, { registries, users, robots }),
  };
}
