import { compileGlob, globMatches } from "./doublestar";
import { CACHE_TTL_MS, ReadCache } from "../db/read-cache";
import type { Queryable } from "../db/sql";

/** A doublestar selector (HARBOR-MODEL §6.4): tags use matches/excludes, repositories repoMatches/repoExcludes. */
export interface Selector {
  kind: "doublestar";
  decoration: string;
  pattern: string;
  extras?: string;
}

export interface RuleSelectors {
  tag_selectors: Selector[];
  scope_selectors: { repository: Selector[] };
}

export interface ImmutableRule extends RuleSelectors {
  id: number;
  project_id: number;
  priority: number;
  disabled: boolean;
}

export class RuleError extends Error {}

/** A tag change an immutable rule forbids (412 PRECONDITION on both APIs, as in Harbor). */
export class ImmutableTagError extends Error {}

export const TAG_DECORATIONS = ["matches", "excludes"];
export const REPOSITORY_DECORATIONS = ["repoMatches", "repoExcludes"];
const PATTERN_MAX = 1024;

export function parseSelector(value: unknown, decorations: string[], where: string): Selector {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new RuleError(`${where} must be an object`);
  const { kind, decoration, pattern, extras } = value as Record<string, unknown>;
  if (kind !== "doublestar") throw new RuleError(`${where}.kind must be "doublestar"`);
  if (typeof decoration !== "string" || !decorations.includes(decoration)) {
    throw new RuleError(`${where}.decoration must be one of ${decorations.join(", ")}`);
  }
  if (typeof pattern !== "string" || pattern === "" || pattern.length > PATTERN_MAX || pattern.includes("\0")) {
    throw new RuleError(`${where}.pattern must be a non-empty glob of at most ${PATTERN_MAX} characters`);
  }
  try {
    compileGlob(pattern);
  } catch {
    throw new RuleError(`${where}.pattern ${JSON.stringify(pattern)} is not a valid glob`);
  }
  if (extras !== undefined && extras !== null && typeof extras !== "string") throw new RuleError(`${where}.extras must be a JSON string`);
  return { kind, decoration, pattern, ...(typeof extras === "string" && extras !== "" ? { extras } : {}) };
}

export function parseSelectorList(value: unknown, decorations: string[], where: string): Selector[] {
  if (!Array.isArray(value) || value.length === 0) throw new RuleError(`${where} needs at least one selector`);
  return value.map((item, i) => parseSelector(item, decorations, `${where}[${i}]`));
}

/** Validates an ImmutableRule body's selectors (template and action, when given, must be Harbor's only ones). */
export function parseRuleBody(body: Record<string, unknown>): RuleSelectors & { priority: number; disabled: boolean } {
  if (body.action !== undefined && body.action !== "immutable") throw new RuleError('action must be "immutable"');
  if (body.template !== undefined && body.template !== "immutable_template") throw new RuleError('template must be "immutable_template"');
  if (body.disabled !== undefined && typeof body.disabled !== "boolean") throw new RuleError("disabled must be a boolean");
  if (body.priority !== undefined && !Number.isInteger(body.priority)) throw new RuleError("priority must be an integer");
  const scope = body.scope_selectors;
  if (typeof scope !== "object" || scope === null || Array.isArray(scope)) throw new RuleError("scope_selectors must be an object with a repository list");
  return {
    priority: (body.priority as number | undefined) ?? 0,
    disabled: (body.disabled as boolean | undefined) ?? false,
    tag_selectors: parseSelectorList(body.tag_selectors, TAG_DECORATIONS, "tag_selectors"),
    scope_selectors: { repository: parseSelectorList((scope as Record<string, unknown>).repository, REPOSITORY_DECORATIONS, "scope_selectors.repository") },
  };
}

/** Whether a selector picks `value`: a glob match, negated by the excludes decorations. */
export function selects(selector: Selector, value: string): boolean {
  const matched = globMatches(value, selector.pattern);
  return selector.decoration === "matches" || selector.decoration === "repoMatches" ? matched : !matched;
}

/**
 * Whether `rule` protects `tag` in repository `repository` (its path inside the project). As in Harbor, only the
 * first repository selector and the first tag selector count, and untagged artifacts are never protected.
 */
export function ruleProtects(rule: RuleSelectors & { disabled: boolean }, repository: string, tag: string): boolean {
  if (rule.disabled) return false;
  return selects(rule.scope_selectors.repository[0], repository) && selects(rule.tag_selectors[0], tag);
}

/** How a rule reads in an error message: `#3 (repository "**", tag "release-*")`. */
export function describeRule(rule: ImmutableRule): string {
  const repository = rule.scope_selectors.repository[0];
  const tag = rule.tag_selectors[0];
  const phrase = (s: Selector) => `${s.decoration.replace(/^repo/, "").toLowerCase()} "${s.pattern}"`;
  return `#${rule.id} (repository ${phrase(repository)}, tag ${phrase(tag)})`;
}

/** The canonical form identical rules share. */
function selectorKey(selectors: RuleSelectors): string {
  const canonical = (s: Selector) => ({ kind: s.kind, decoration: s.decoration, pattern: s.pattern, extras: s.extras ?? "" });
  return JSON.stringify({ tag: selectors.tag_selectors.map(canonical), repository: selectors.scope_selectors.repository.map(canonical) });
}

interface RuleRow {
  id: number;
  project_id: number;
  priority: number;
  disabled: boolean;
  selectors: RuleSelectors;
}

const toRule = (row: RuleRow): ImmutableRule => ({ id: row.id, project_id: row.project_id, priority: row.priority, disabled: row.disabled, ...row.selectors });

export type RuleInput = RuleSelectors & { priority: number; disabled: boolean };

/** Immutable tag rules of projects, and the question every tag change asks: does a rule protect this tag? */
export class ImmutableRules {
  // Every push by tag asks; rules change rarely. This node's writes invalidate at once, other nodes' within the TTL.
  private readonly enabled = new ReadCache<ImmutableRule[]>({ max: 1000, ttlMs: CACHE_TTL_MS });

  constructor(private readonly db: Queryable) {}

  async list(projectId: number, limit: number, offset: number): Promise<{ rows: ImmutableRule[]; total: number }> {
    const [{ total }] = await this.db.query<{ total: number }>("SELECT count(*)::int AS total FROM immutable_tag_rules WHERE project_id = $1", [projectId]);
    const rows = await this.db.query<RuleRow>(
      `SELECT id, project_id, priority, disabled, selectors FROM immutable_tag_rules WHERE project_id = $1
        ORDER BY priority, id LIMIT ${limit} OFFSET ${offset}`,
      [projectId],
    );
    return { rows: rows.map(toRule), total };
  }

  async get(projectId: number, id: number): Promise<ImmutableRule | null> {
    const [row] = await this.db.query<RuleRow>(
      "SELECT id, project_id, priority, disabled, selectors FROM immutable_tag_rules WHERE project_id = $1 AND id = $2",
      [projectId, id],
    );
    return row ? toRule(row) : null;
  }

  /** Creates a rule; null when the project already has an identical one. */
  async create(projectId: number, rule: RuleInput, db: Queryable = this.db): Promise<number | null> {
    const [row] = await db.query<{ id: number }>(
      `INSERT INTO immutable_tag_rules (project_id, priority, disabled, selectors, selector_key) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (project_id, selector_key) DO NOTHING RETURNING id`,
      [projectId, rule.priority, rule.disabled, JSON.stringify(selectorsOf(rule)), selectorKey(rule)],
    );
    this.enabled.delete(String(projectId));
    return row?.id ?? null;
  }

  /** Replaces a rule; "missing" when there is none, "duplicate" when another rule already says the same. */
  async update(projectId: number, id: number, rule: RuleInput, db: Queryable = this.db): Promise<"updated" | "missing" | "duplicate"> {
    const clash = await db.query("SELECT 1 FROM immutable_tag_rules WHERE project_id = $1 AND selector_key = $2 AND id <> $3", [
      projectId,
      selectorKey(rule),
      id,
    ]);
    if (clash.length > 0) return "duplicate";
    const rows = await db.query(
      `UPDATE immutable_tag_rules SET priority = $3, disabled = $4, selectors = $5, selector_key = $6, updated_at = now()
        WHERE project_id = $1 AND id = $2 RETURNING id`,
      [projectId, id, rule.priority, rule.disabled, JSON.stringify(selectorsOf(rule)), selectorKey(rule)],
    );
    this.enabled.delete(String(projectId));
    return rows.length > 0 ? "updated" : "missing";
  }

  async delete(projectId: number, id: number, db: Queryable = this.db): Promise<boolean> {
    const rows = await db.query("DELETE FROM immutable_tag_rules WHERE project_id = $1 AND id = $2 RETURNING id", [projectId, id]);
    this.enabled.delete(String(projectId));
    return rows.length > 0;
  }

  /** Drops this node's cached rules of a project; call after a rule change commits. */
  forget(projectId: number): void {
    this.enabled.delete(String(projectId));
  }

  /** Throws ImmutableTagError when an enabled rule protects `tag` of `repository` from being `verb` (updated, deleted). */
  async assertMutable(projectId: number, repository: string, tag: string, verb: "updated" | "deleted"): Promise<void> {
    const rule = await this.protecting(projectId, repository, tag);
    if (rule) {
      throw new ImmutableTagError(`the tag ${repository}:${tag} is protected by immutable tag rule ${describeRule(rule)} and cannot be ${verb}`);
    }
  }

  /** The first enabled rule protecting `tag` of `repository` (full name `project/path`), or null. */
  async protecting(projectId: number, repository: string, tag: string): Promise<ImmutableRule | null> {
    const rules = await this.enabledRules(projectId);
    const path = repository.slice(repository.indexOf("/") + 1);
    return rules.find((rule) => ruleProtects(rule, path, tag)) ?? null;
  }

  private async enabledRules(projectId: number): Promise<ImmutableRule[]> {
    const rules = await this.enabled.get(String(projectId), async () => {
      const rows = await this.db.query<RuleRow>(
        "SELECT id, project_id, priority, disabled, selectors FROM immutable_tag_rules WHERE project_id = $1 AND NOT disabled ORDER BY priority, id",
        [projectId],
      );
      return rows.map(toRule);
    });
    return rules ?? [];
  }
}

function selectorsOf(rule: RuleSelectors): RuleSelectors {
  return { tag_selectors: rule.tag_selectors, scope_selectors: rule.scope_selectors };
}
