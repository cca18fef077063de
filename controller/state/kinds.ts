/**
 * The kinds of object the controller manages, in the order a plan creates them (deletions run in reverse): a kind
 * may refer to the kinds before it (members to users and projects, replication to registries), never after.
 */
export const KINDS = ["configuration", "registry", "user", "project", "label", "member", "robot", "immutability", "retention", "replication"] as const;
export type Kind = (typeof KINDS)[number];

/** Comparable fields of one object: plain JSON, shown before → after in plans. */
export type Fields = Record<string, unknown>;

/** An object as it is in the registry: its fields and what the API needs to change it. */
export interface LiveObject {
  fields: Fields;
  /** API ids and anything else the update or delete calls need. */
  ref: Record<string, unknown>;
}

/** Desired and live objects of every kind, by key (the object's natural name: `dev-team`, `dev-team/alice`). */
export type State = Record<Kind, Map<string, Fields>>;
export type LiveState = Record<Kind, Map<string, LiveObject>>;

export function emptyState<T>(): Record<Kind, Map<string, T>> {
  return Object.fromEntries(KINDS.map((kind) => [kind, new Map<string, T>()])) as Record<Kind, Map<string, T>>;
}

/** The project an object belongs to, for dependencies: members, robots and project settings wait for their project. */
export function projectOf(kind: Kind, key: string, fields: Fields | undefined): string | null {
  switch (kind) {
    case "project":
    case "immutability":
    case "retention":
      return key;
    case "member":
      return key.split("/")[0];
    case "label":
      return key.includes("/") ? key.split("/")[0] : null;
    case "robot":
      return key.split("+")[0];
    case "replication":
      return (fields?.project as string | undefined) ?? null;
    default:
      return null;
  }
}
