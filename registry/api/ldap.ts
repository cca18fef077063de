import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Queryable } from "../db/sql";
import { LdapUnavailableError, type LdapDirectory } from "../identity/ldap/directory";
import { onboardLdapUser } from "../identity/ldap/onboarding";
import { HarborError } from "./errors";
import { jsonObjectBody, queryString } from "./params";
import { requireSystem } from "./project-access";

/** Harbor's group_type of a group found in LDAP. */
const LDAP_GROUP_TYPE = 1;

/**
 * Harbor's /ldap routes (system admins): ping the directory, search its users and groups, import users ahead of
 * their first sign-in. Only the configured directory is asked: a ping with other settings in its body (as Harbor
 * allows) would let the API send binds to any host, so the body is ignored.
 */
export function registerLdapRoutes(app: FastifyInstance, deps: { sql: Queryable; directory?: LdapDirectory }): void {
  const directoryFor = (request: FastifyRequest, resource: "ldap-user" | "user-group", action: "read" | "list" | "create") => {
    requireSystem(request.principal, resource, action);
    if (!deps.directory) throw new HarborError("PRECONDITION", "the auth mode is not ldap (BERTH_AUTH_MODE)");
    return deps.directory;
  };
  const unavailable = (error: unknown): never => {
    if (error instanceof LdapUnavailableError) throw new HarborError("SERVICE_UNAVAILABLE", error.message);
    throw error;
  };

  app.post("/api/v2.0/ldap/ping", async (request) => {
    const directory = directoryFor(request, "ldap-user", "read");
    try {
      await directory.ping();
      return { success: true, message: "" };
    } catch (error) {
      if (error instanceof LdapUnavailableError) return { success: false, message: error.message };
      throw error;
    }
  });

  app.get("/api/v2.0/ldap/users/search", async (request) => {
    const directory = directoryFor(request, "ldap-user", "list");
    const users = await directory.searchUsers(queryString(request.query, "username") ?? "", { limit: directory.searchMax }).catch(unavailable);
    return users.map((user) => ({ username: user.username, realname: user.realname, email: user.email ?? "" }));
  });

  // Berth addition: `with_members=true` (with groupdn) adds the group's users as a sign-in would find them in it, up
  // to BERTH_LDAP_SEARCH_MAX (`members_complete` false when there were more); the GitOps plan lists who gains access.
  app.get("/api/v2.0/ldap/groups/search", async (request) => {
    const directory = directoryFor(request, "user-group", "list");
    const name = queryString(request.query, "groupname");
    const dn = queryString(request.query, "groupdn");
    if (!name && !dn) throw new HarborError("BAD_REQUEST", "give groupname or groupdn");
    const withMembers = queryString(request.query, "with_members") === "true";
    if (withMembers && !dn) throw new HarborError("BAD_REQUEST", "with_members needs groupdn (one group)");
    const groups = await directory.searchGroups(dn ? { dn } : { name }, directory.searchMax).catch(unavailable);
    const answer = groups.map((group) => ({ group_name: group.name, ldap_group_dn: group.dn, group_type: LDAP_GROUP_TYPE }));
    if (!withMembers || answer.length === 0) return answer;
    const { users, complete } = await directory.groupMembers(answer[0].ldap_group_dn, directory.searchMax).catch(unavailable);
    return [{ ...answer[0], members: users.map((user) => ({ username: user.username, realname: user.realname, email: user.email ?? "" })), members_complete: complete }];
  });

  app.post("/api/v2.0/ldap/users/import", async (request, reply) => {
    const directory = directoryFor(request, "ldap-user", "create");
    const uids = jsonObjectBody(request).ldap_uid_list;
    if (!Array.isArray(uids) || uids.length === 0 || !uids.every((uid) => typeof uid === "string" && uid !== "")) {
      throw new HarborError("BAD_REQUEST", "ldap_uid_list must be a non-empty list of user IDs");
    }
    if (uids.length > directory.searchMax) throw new HarborError("BAD_REQUEST", `at most ${directory.searchMax} users at once (BERTH_LDAP_SEARCH_MAX)`);
    const failed: { uid: string; error: string }[] = [];
    for (const uid of new Set(uids as string[])) {
      const person = await directory.findUser(uid).catch(unavailable);
      if (person) await onboardLdapUser(deps.sql, person);
      else failed.push({ uid, error: "not found in the directory" });
    }
    // Harbor answers a partial import with 404 and the users it could not find.
    return failed.length > 0 ? reply.code(404).send(failed) : reply.code(200).send();
  });
}
