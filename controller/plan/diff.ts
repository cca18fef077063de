import { KINDS, type Fields, type Kind, type LiveState, type State } from "../state/kinds";

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
  /** A whole list item (a rule) that comes or goes, in a change's `detail`. */
  item?: "added" | "removed";
}

/** `adopt`: the object exists but the controller did not make it; taking it over (and updating what differs). */
export type Action = "create" | "update" | "delete" | "adopt";

export interface Change {
  kind: Kind;
  key: string;
  action: Action;
  /** Field-level before → after (creates: every field from undefined; deletes: every field to undefined). */
  fields: FieldChange[];
  desired?: Fields;
  /** `fields` for reading, where they differ: rule lists item by item and field by field, named as in the files. */
  detail?: FieldChange[];
  /** Why this change cannot be made (reported in the plan, not discovered halfway through an apply). */
  blocked?: string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The fields that differ; only the fields the files declare count (an undeclared field is not managed). */
export function fieldChanges(desired: Fields, live: Fields | undefined): FieldChange[] {
  return Object.keys(desired)
    .filter((field) => !live || !same(desired[field], live[field]))
    .map((field) => ({ field, before: live?.[field], after: desired[field] }));
}

/**
 * Desired vs live, in dependency order: creates and updates kind by kind (registries first, replication last), then
 * deletions in reverse. `deletable` lists the objects the controller may delete (managed ones that left the files,
 * when pruning is on); nothing else is ever deleted. With a `managed` set (kind:key), an existing object outside it
 * is planned as an adoption.
 */
export function diff(desired: State, live: LiveState, deletable: { kind: Kind; key: string }[] = [], managed: Set<string> | null = null): Change[] {
  const changes: Change[] = [];
  for (const kind of KINDS) {
    for (const [key, fields] of desired[kind]) {
      const current = live[kind].get(key);
      const differing = fieldChanges(fields, current?.fields);
      if (!current) changes.push({ kind, key, action: "create", fields: differing, desired: fields });
      // A setting always exists and nobody "created" it: managing it is just changing it.
      else if (managed !== null && !managed.has(`${kind}:${key}`) && kind !== "configuration") changes.push({ kind, key, action: "adopt", fields: differing, desired: fields });
      else if (differing.length > 0) changes.push({ kind, key, action: "update", fields: differing, desired: fields });
    }
  }
  for (const kind of [...KINDS].reverse()) {
    for (const { key } of deletable.filter((d) => d.kind === kind)) {
      const current = live[kind].get(key);
      if (!current || desired[kind].has(key)) continue;
      changes.push({ kind, key, action: "delete", fields: Object.entries(current.fields).map(([field, before]) => ({ field, before, after: undefined })) });
    }
  }
  return changes;
}
