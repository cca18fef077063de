const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 128;

/**
 * Harbor's password rule: 8–128 characters with an uppercase letter, a lowercase letter and a digit.
 * Returns why a password is refused, or null when it is acceptable.
 */
export function passwordProblem(password: unknown): string | null {
  if (typeof password !== "string") return "password must be a string";
  // Count characters (code points), not UTF-16 units: an emoji is one character to the person typing it.
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    return `password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters long`;
  }
  if (!/[A-Z]/.test(password) || !/[a-z]/.test(password) || !/[0-9]/.test(password)) {
    return "password must contain at least one uppercase letter, one lowercase letter and one digit";
  }
  return null;
}

// Harbor refuses these characters in usernames, and `robot$` names belong to robot accounts. NUL is refused too:
// PostgreSQL text cannot hold it.
const FORBIDDEN_USERNAME_CHARS = /[,"~#%$\0]/;
// Control and format characters (U+202E right-to-left override, U+200B zero-width space…) make one name look like
// another in lists, logs and audit records.
const INVISIBLE_OR_CONTROL = /[\p{Cc}\p{Cf}]/u;

/** Harbor's username rule (it lives beside the password rule: both decide which credentials may exist). */
export function usernameProblem(username: unknown): string | null {
  if (typeof username !== "string" || username.length < 1 || username.length > 255) return "username must be 1 to 255 characters";
  if (username.startsWith("robot$")) return "usernames starting with robot$ are reserved for robot accounts";
  if (FORBIDDEN_USERNAME_CHARS.test(username)) return 'username must not contain any of , " ~ # % $';
  if (INVISIBLE_OR_CONTROL.test(username)) {
    return "username must not contain control or invisible formatting characters (Unicode Cc, Cf: U+202E, U+200B…)";
  }
  return null;
}
