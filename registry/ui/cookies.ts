/** The session cookie's name: Harbor's. */
export const SESSION_COOKIE = "sid";

/** The value of cookie `name` in a Cookie header, or undefined (the first one wins, as browsers send the most specific first). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The Set-Cookie of a session: HttpOnly (no script reads it), SameSite=Lax (no cross-site POST carries it), Secure
 * when the browser reaches Berth over https, for the whole site, gone from the browser when the session's absolute
 * lifetime ends. `maxAgeSeconds` 0 deletes it.
 */
export function sessionCookie(value: string, options: { secure: boolean; maxAgeSeconds: number }): string {
  return cookieHeader(SESSION_COOKIE, value, { ...options, path: "/" });
}

/** An HttpOnly, SameSite=Lax Set-Cookie value for `path`; Secure when asked. */
export function cookieHeader(name: string, value: string, options: { secure: boolean; maxAgeSeconds: number; path: string }): string {
  return [`${name}=${value}`, `Path=${options.path}`, "HttpOnly", "SameSite=Lax", `Max-Age=${options.maxAgeSeconds}`, ...(options.secure ? ["Secure"] : [])].join("; ");
}
