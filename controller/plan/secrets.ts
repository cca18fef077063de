import type { Policy, SecretReference } from "../policy/model";
import { unreadable } from "../policy/secrets";
import type { Change } from "./diff";

/**
 * The secret applying `change` would read (see apply/executors.ts): only creating a user (its initial password), a
 * robot or a registry endpoint sends one; updates and adoptions leave secrets alone.
 */
export function secretUsedBy(change: Change, policy: Pick<Policy, "secrets">): SecretReference | undefined {
  if (change.action !== "create") return undefined;
  return policy.secrets.find((secret) => secret.kind === change.kind && secret.key === change.key);
}

/** Blocks the changes whose secret cannot be read here, saying which variable or file is missing (never a value). */
export async function blockUnreadableSecrets(changes: Change[], policy: Pick<Policy, "secrets">): Promise<void> {
  for (const change of changes) {
    const secret = change.blocked ? undefined : secretUsedBy(change, policy);
    const reason = secret ? await unreadable(secret.reference) : null;
    if (secret && reason) change.blocked = `${secret.field.slice(secret.field.lastIndexOf(".") + 1)}: ${reason}`;
  }
}
