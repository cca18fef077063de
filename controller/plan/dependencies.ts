import { parseMemberKey } from "../policy/model";
import { projectOf } from "../state/kinds";
import type { Change } from "./diff";

/** The objects (`kind:key`) a change needs to exist first: its project, its user, a replication's registry endpoint. */
export function dependenciesOf(change: Change): string[] {
  const needs: string[] = [];
  const project = projectOf(change.kind, change.key, change.desired);
  if (project !== null && change.kind !== "project") needs.push(`project:${project}`);
  if (change.kind === "replication") needs.push(`registry:${change.desired?.registry as string}`);
  if (change.kind === "member") {
    // A group needs no object of the files: the registry makes the user group when it is first added.
    const member = parseMemberKey(change.key);
    if (member.kind === "user") needs.push(`user:${member.name}`);
  }
  return needs;
}

/**
 * A change that needs a blocked one is blocked too, in plan order (what a change needs comes before it): apply
 * would skip it, and the plan says so before anything is touched.
 */
export function blockDependents(changes: Change[]): void {
  const blocked = new Set<string>();
  for (const change of changes) {
    const needs = change.blocked ? undefined : dependenciesOf(change).find((dependency) => blocked.has(dependency));
    if (needs) change.blocked = `${needs.replace(":", " ")} is blocked`;
    if (change.blocked) blocked.add(`${change.kind}:${change.key}`);
  }
}
