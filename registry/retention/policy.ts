import { parseSelector, parseSelectorList, REPOSITORY_DECORATIONS, RuleError, TAG_DECORATIONS, type Selector } from "../policy/immutable-rules";
import { harborCronProblem } from "../scheduler/cron";

export const TEMPLATES = ["latestPushedK", "latestPulledN", "nDaysSinceLastPush", "nDaysSinceLastPull", "always"] as const;
export type Template = (typeof TEMPLATES)[number];
export const MAX_RULES = 15;
// The template validators' bounds (HARBOR-MODEL §6.3).
const MAX_COUNT = 32766;
const MAX_DAYS = 20190904;

/**
 * Harbor's label selector among a rule's tag selectors: `withLabels` picks artifacts carrying every listed label,
 * `withoutLabels` those carrying none of them; `pattern` lists label names separated by commas.
 */
export interface LabelSelector {
  kind: "label";
  decoration: "withLabels" | "withoutLabels";
  pattern: string;
}

export type TagSelector = Selector | LabelSelector;

export const LABEL_DECORATIONS = ["withLabels", "withoutLabels"] as const;

/** The label names a label selector lists. */
export function labelNames(selector: LabelSelector): string[] {
  return selector.pattern.split(",").map((name) => name.trim()).filter((name) => name !== "");
}

function parseLabelSelector(value: Record<string, unknown>, where: string): LabelSelector {
  const { decoration, pattern } = value;
  if (!(LABEL_DECORATIONS as readonly unknown[]).includes(decoration)) fail(`${where}.decoration must be one of ${LABEL_DECORATIONS.join(", ")}`);
  if (typeof pattern !== "string" || pattern.length > 1024 || labelNames({ kind: "label", decoration: "withLabels", pattern }).length === 0) {
    fail(`${where}.pattern must list label names separated by commas`);
  }
  return { kind: "label", decoration: decoration as LabelSelector["decoration"], pattern };
}

/** A rule's tag selectors: doublestar ones over tag names, and label ones. */
function parseTagSelectors(value: unknown, where: string): TagSelector[] {
  if (!Array.isArray(value) || value.length === 0) fail(`${where} needs at least one selector`);
  return value.map((item, i) =>
    isObject(item) && item.kind === "label" ? parseLabelSelector(item, `${where}[${i}]`) : parseSelector(item, TAG_DECORATIONS, `${where}[${i}]`),
  );
}

export interface RetentionRule {
  id: number;
  priority: number;
  disabled: boolean;
  action: "retain";
  template: Template;
  params: Record<string, number>;
  tag_selectors: TagSelector[];
  scope_selectors: { repository: Selector[] };
}

export interface RetentionPolicyBody {
  algorithm: "or";
  rules: RetentionRule[];
  trigger: { kind: "Schedule"; settings: { cron: string }; references: Record<string, unknown> };
  scope: { level: "project"; ref: number };
}

/** A policy that cannot be stored; `conflict` marks two identical rules (409 in Harbor). */
export class RetentionPolicyError extends Error {
  constructor(
    message: string,
    readonly conflict = false,
  ) {
    super(message);
  }
}

function fail(message: string): never {
  throw new RetentionPolicyError(message);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** `extras` of a tag selector: `{"untagged": bool}` as a JSON string. */
function checkExtras(selectors: TagSelector[], where: string): void {
  selectors.forEach((selector, i) => {
    if (selector.kind === "label" || selector.extras === undefined) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(selector.extras);
    } catch {
      fail(`${where}[${i}].extras must be a JSON string like {"untagged":true}`);
    }
    if (!isObject(parsed) || (parsed.untagged !== undefined && typeof parsed.untagged !== "boolean")) fail(`${where}[${i}].extras.untagged must be a boolean`);
  });
}

function parseParams(template: Template, params: unknown, where: string): Record<string, number> {
  if (template === "always") return {};
  if (!isObject(params)) fail(`${where}.params must be an object with ${template}`);
  const value = params[template];
  const max = template.startsWith("nDays") ? MAX_DAYS : MAX_COUNT;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) fail(`${where}.params.${template} must be an integer from 0 to ${max}`);
  return { [template]: value };
}

function parseRule(value: unknown, index: number): RetentionRule {
  const where = `rules[${index}]`;
  if (!isObject(value)) fail(`${where} must be an object`);
  if ((value.action ?? "retain") !== "retain") fail(`${where}.action must be "retain"`);
  if (!(TEMPLATES as readonly unknown[]).includes(value.template)) fail(`${where}.template must be one of ${TEMPLATES.join(", ")}, got ${JSON.stringify(value.template)}`);
  if (value.disabled !== undefined && typeof value.disabled !== "boolean") fail(`${where}.disabled must be a boolean`);
  const template = value.template as Template;
  const scope = value.scope_selectors;
  if (!isObject(scope)) fail(`${where}.scope_selectors must be an object with a repository list`);
  try {
    const tagSelectors = parseTagSelectors(value.tag_selectors, `${where}.tag_selectors`);
    checkExtras(tagSelectors, `${where}.tag_selectors`);
    return {
      id: index + 1,
      priority: Number.isInteger(value.priority) ? (value.priority as number) : index + 1,
      disabled: (value.disabled as boolean | undefined) ?? false,
      action: "retain",
      template,
      params: parseParams(template, value.params, where),
      tag_selectors: tagSelectors,
      scope_selectors: { repository: parseSelectorList(scope.repository, REPOSITORY_DECORATIONS, `${where}.scope_selectors.repository`) },
    };
  } catch (error) {
    if (error instanceof RuleError) fail(error.message);
    throw error;
  }
}

/** Validates a Harbor RetentionPolicy body; every error names the field. */
export function parseRetentionPolicy(body: Record<string, unknown>): RetentionPolicyBody {
  if ((body.algorithm ?? "or") !== "or") fail('algorithm must be "or"');
  const scope = body.scope;
  if (!isObject(scope) || scope.level !== "project" || !Number.isInteger(scope.ref) || (scope.ref as number) < 1) {
    fail('scope must be {"level":"project","ref":<project id>}');
  }
  const trigger = body.trigger ?? { kind: "Schedule", settings: { cron: "" } };
  if (!isObject(trigger) || (trigger.kind ?? "Schedule") !== "Schedule") fail('trigger.kind must be "Schedule"');
  const settings = trigger.settings ?? {};
  if (!isObject(settings)) fail("trigger.settings must be an object");
  const cron = settings.cron ?? "";
  if (cron !== "") {
    const problem = harborCronProblem(cron);
    if (problem) fail(`trigger.settings.cron: ${problem}`);
  }
  if (!Array.isArray(body.rules)) fail("rules must be a list");
  if (body.rules.length > MAX_RULES) fail(`at most ${MAX_RULES} rules, got ${body.rules.length}`);
  const rules = body.rules.map(parseRule);
  const shape = (rule: RetentionRule) => JSON.stringify({ ...rule, id: 0, priority: 0 });
  rules.forEach((rule, i) => {
    const twin = rules.findIndex((other, j) => j < i && shape(other) === shape(rule));
    if (twin >= 0) throw new RetentionPolicyError(`rule ${i} is conflict with rule ${twin}`, true);
  });
  return { algorithm: "or", rules, trigger: { kind: "Schedule", settings: { cron: cron as string }, references: {} }, scope: { level: "project", ref: scope.ref as number } };
}
