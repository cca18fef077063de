/** Who is making a request. Robots and project members arrive with the RBAC issue; this is the seam. */
export type Principal =
  | { kind: "anonymous" }
  | { kind: "user"; id: number; username: string; sysadmin: boolean };

export const ANONYMOUS: Principal = { kind: "anonymous" };

export function principalName(principal: Principal): string {
  return principal.kind === "user" ? principal.username : "anonymous";
}
