import { readFile } from "node:fs/promises";
import type { Problem } from "./load";
import type { Policy, SecretReference } from "./model";

/** Why a reference cannot be read here. The message names the variable or file, never a value. */
export class UnreadableSecret extends Error {}

/** Resolves `env:NAME` or `file:PATH`; the value is used for one request and never logged or stored. */
export async function resolveSecret(reference: string): Promise<string> {
  if (reference.startsWith("env:")) {
    const name = reference.slice(4);
    const value = process.env[name];
    if (value === undefined || value === "") throw new UnreadableSecret(`the environment variable ${name} is not set`);
    return value;
  }
  const file = reference.slice(5);
  let value: string;
  try {
    value = (await readFile(file, "utf8")).trim();
  } catch (error) {
    throw new UnreadableSecret(`cannot read the file ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (value === "") throw new UnreadableSecret(`the file ${file} is empty`);
  return value;
}

/** Why `reference` cannot be resolved on this machine now, or null when it can. */
export async function unreadable(reference: string): Promise<string | null> {
  try {
    await resolveSecret(reference);
    return null;
  } catch (error) {
    if (error instanceof UnreadableSecret) return error.message;
    throw error;
  }
}

const WHAT: Record<SecretReference["kind"], string> = { registry: "registry endpoint", user: "user", robot: "robot" };

/**
 * Every reference in the files that cannot be resolved here, as a warning at its place: `validate` runs where the
 * secrets usually are not (a pull request's CI), so they stop nothing; a plan blocks only the changes that need them.
 */
export async function secretWarnings(policy: Pick<Policy, "secrets">): Promise<Problem[]> {
  const warnings: Problem[] = [];
  for (const secret of policy.secrets) {
    const reason = await unreadable(secret.reference);
    if (reason === null) continue;
    const { file, line, col } = secret;
    warnings.push({ file, line, col, severity: "warning", message: `${secret.field}: ${reason} (creating ${WHAT[secret.kind]} ${secret.key} needs it)` });
  }
  return warnings;
}
