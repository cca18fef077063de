import type { AuditLog } from "../audit/audit-log";
import type { Principal } from "../auth/principal";
import { NO_SCOPES } from "../auth/principal";
import { ROLES } from "../auth/rbac";
import type { TokenService } from "../auth/token-service";
import type { DistributionMetadata } from "../distribution/metadata";
import type { MemberStore } from "../projects/members";
import { isValidProjectName, type ProjectStore } from "../projects/projects";
import { UNLIMITED } from "../quotas/quotas";
import type { Sql } from "../db/sql";
import type { LocalSide } from "./job";
import type { Labels } from "../labels/labels";
import { RemoteRegistry } from "./remote-registry";
import { loopbackAuthorizer } from "./loopback";

/** Who replication acts as on this registry: audit records name it; a colon keeps it apart from every user name. */
export const REPLICATOR: Principal = { kind: "robot", id: 0, name: "system:replication", scopes: NO_SCOPES };

export interface LocalSideDeps {
  /** This registry's own base URL as this process reaches it (its listening address). */
  url: () => string;
  /** How to reach it: over TLS, a fetch that trusts the certificate it serves. */
  fetch?: typeof fetch;
  tokens: TokenService;
  sql: Sql;
  metadata: DistributionMetadata;
  projects: ProjectStore;
  members: MemberStore;
  audit: AuditLog;
  labels: Labels;
}

/**
 * This registry as a replication side. Copies go through its own /v2 over loopback, so everything a push meets
 * (manifest validation, quotas, immutable tags, events, audit) applies to replicated content too; the bearer
 * tokens are minted here for exactly the scope each request needs and never leave the process.
 */
export function localSide(deps: LocalSideDeps): LocalSide {
  const authorize = loopbackAuthorizer(deps, REPLICATOR);
  return {
    registry: (changeRef) => new RemoteRegistry(deps.url(), { authorize, fetch: deps.fetch, attempts: 3, headers: { "X-Berth-Change-Ref": changeRef } }),
    repositories: () => deps.metadata.catalog({ last: null, limit: null, projectIds: null }),
    labels: (repository, digest) => deps.labels.namesOf(repository, digest),
    async ensureProject(name) {
      if (await deps.projects.findByName(name)) return;
      if (!isValidProjectName(name)) throw new Error(`${name} cannot be a project name here: set dest_namespace to an existing project`);
      await deps.sql.transaction(async (tx) => {
        const [owner] = await tx.query<{ id: number }>("SELECT id FROM users WHERE sysadmin ORDER BY id LIMIT 1");
        const created = await deps.projects.create({ name, ownerId: owner?.id ?? null, metadata: { public: "false" }, storageLimit: UNLIMITED }, tx);
        if (created === null) return; // created meanwhile by someone else
        if (owner) await deps.members.addUser(created, owner.id, ROLES.projectAdmin, tx);
        await deps.audit.record(
          tx,
          { projectId: created, operation: "create", resourceType: "project", resource: name, description: "created by replication for pulled content" },
          { username: "system:replication", clientIp: "", changeRef: null },
        );
      });
    },
  };
}
