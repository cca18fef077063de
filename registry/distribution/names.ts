import { OciError } from "./errors";

// The spec's repository name grammar: path components of lowercase alphanumerics joined by separators.
const COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
const REPOSITORY_NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const MAX_NAME_LENGTH = 255;

export function isValidRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && REPOSITORY_NAME.test(name);
}

/** Validates a repository name and returns its project (first path segment, as Harbor does). */
export function requireRepositoryName(name: string): { name: string; project: string } {
  if (!isValidRepositoryName(name) || !name.includes("/")) {
    throw new OciError("NAME_INVALID", `invalid repository name: ${name.slice(0, 300)}`, {
      name: name.slice(0, 300),
      rule: "lowercase path components separated by '/', at most 255 characters, first component is the project",
    });
  }
  return { name, project: name.slice(0, name.indexOf("/")) };
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}
