/** Harbor's password rule: 8–128 characters with an uppercase letter, a lowercase letter and a digit. */
export function passwordProblem(password: unknown): string | null {
  if (typeof password !== "string") return "password must be a string";
  if (password.length < 8 || password.length > 128) return "password must be 8 to 128 characters long";
  if (!/[A-Z]/.test(password) || !/[a-z]/.test(password) || !/[0-9]/.test(password)) {
    return "password must contain at least one uppercase letter, one lowercase letter and one digit";
  }
  return null;
}

// Harbor refuses these characters in usernames, and `robot$` names belong to robot accounts.
const FORBIDDEN_USERNAME_CHARS = /[,"~#%$\0]/;

export function usernameProblem(username: unknown): string | null {
  if (typeof username !== "string" || username.length < 1 || username.length > 255) return "username must be 1 to 255 characters";
  if (username.startsWith("robot$")) return "usernames starting with robot$ are reserved for robot accounts";
  if (FORBIDDEN_USERNAME_CHARS.test(username)) return 'username must not contain any of , " ~ # % $';
  return null;
}
