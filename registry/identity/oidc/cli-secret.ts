import { randomBytes } from "node:crypto";
import { GROUP_TYPES, type PrincipalGroup } from "../../auth/principal";
import type { Queryable, Sql } from "../../db/sql";
import type { SecretBox } from "../../secrets/secret-box";
import type { OidcRefresh } from "./provider";
import { OidcRefreshError } from "./refresh-error";

/** The provider side of the check: openid-client's refresh grant (OidcProvider.refresh). */
export interface OidcRefresher {
  refresh(refreshToken: string): Promise<OidcRefresh>;
}

/** An OIDC-linked user as a CLI login needs them: the secret's hash and what the refresh check reads. */
export interface CliSecretAccount {
  userId: number;
  username: string;
  sysadmin: boolean;
  /** scrypt hash of the CLI secret; "" until one was generated or set. */
  secretHash: string;
}

/** What the API shows of a link: Harbor's oidc_user_meta, without the secret. */
export interface OidcLink {
  issuer: string;
  subject: string;
  cliSecretCreated: Date | null;
}

/** The user's groups as of the last sign-in or refresh, and their system admin flag when a refresh just set it. */
export interface SessionState {
  groups: PrincipalGroup[];
  sysadmin?: boolean;
}

/** The session at the provider is over, or could not be checked: the CLI secret does not count. */
export class OidcSessionRefused extends Error {}

/** A generated CLI secret: 32 random bytes, base64url (43 characters; carries upper, lower and digits almost always). */
export function generateCliSecret(): string {
  for (;;) {
    const secret = randomBytes(32).toString("base64url");
    // Harbor's secret rule (as for a chosen one): an upper, a lower and a digit. Retried in the rare case it lacks one.
    if (/[A-Z]/.test(secret) && /[a-z]/.test(secret) && /[0-9]/.test(secret)) return secret;
  }
}

/**
 * CLI secrets of OIDC users (issue 19): the password podman or skopeo sends for a user who has none. A secret counts
 * only while the user's refresh token still refreshes at the provider (Harbor's rule): a successful refresh vouches
 * for `checkSeconds` (BERTH_OIDC_REFRESH_CHECK_SECONDS), recorded in the database so every node shares it; after that
 * the next login refreshes again. A rotated refresh token is stored (sealed); a refused one is cleared, so a disabled
 * user's client does not keep asking the provider until they sign in through the web interface again.
 */
export class OidcCliSecrets {
  /** Refreshes under way, by user: logins arriving together (podman's parallel layer uploads) wait for one. */
  private readonly inFlight = new Map<number, Promise<SessionState>>();

  constructor(
    private readonly sql: Sql,
    private readonly secrets: SecretBox,
    private readonly refresher: OidcRefresher,
    private readonly options: { checkSeconds: number; adminGroup?: string },
  ) {}

  /** The OIDC-linked user named `username`, or null (no such user, or not linked to the provider). */
  async account(username: string): Promise<CliSecretAccount | null> {
    const [row] = await this.sql.query<{ id: number; username: string; sysadmin: boolean; cli_secret_hash: string }>(
      "SELECT u.id, u.username, u.sysadmin, o.cli_secret_hash FROM users u JOIN oidc_identities o ON o.user_id = u.id WHERE u.username = $1",
      [username],
    );
    return row ? { userId: row.id, username: row.username, sysadmin: row.sysadmin, secretHash: row.cli_secret_hash } : null;
  }

  /** The user's link to the provider, or null when they have none. */
  async link(userId: number): Promise<OidcLink | null> {
    const [row] = await this.sql.query<{ issuer: string; subject: string; cli_secret_created: Date | null }>(
      "SELECT issuer, subject, cli_secret_created FROM oidc_identities WHERE user_id = $1",
      [userId],
    );
    return row ? { issuer: row.issuer, subject: row.subject, cliSecretCreated: row.cli_secret_created } : null;
  }

  /** Replaces the user's CLI secret by `secretHash` (the old one stops working); false when the user has no link. */
  async setSecretHash(userId: number, secretHash: string, db: Queryable = this.sql): Promise<boolean> {
    const rows = await db.query("UPDATE oidc_identities SET cli_secret_hash = $2, cli_secret_created = now() WHERE user_id = $1 RETURNING user_id", [
      userId,
      secretHash,
    ]);
    return rows.length > 0;
  }

  /**
   * Checks that the user's session at the provider still refreshes (asking it only when the last check is older than
   * `checkSeconds`). Returns the user's groups as of the last sign-in or refresh and until when this answer holds;
   * throws OidcSessionRefused with the reason otherwise.
   */
  async checkSession(userId: number): Promise<SessionState & { validUntil: number }> {
    const [row] = await this.sql.query<{ checked_ms: number | null; groups: string[] }>(
      "SELECT (extract(epoch FROM refresh_checked_at) * 1000)::float8 AS checked_ms, groups FROM oidc_identities WHERE user_id = $1",
      [userId],
    );
    if (!row) throw new OidcSessionRefused("the user is not linked to the OIDC provider");
    const windowMs = this.options.checkSeconds * 1000;
    if (row.checked_ms !== null && row.checked_ms + windowMs > Date.now()) {
      return { groups: oidcGroups(row.groups), validUntil: row.checked_ms + windowMs };
    }
    let pending = this.inFlight.get(userId);
    if (!pending) {
      pending = this.refresh(userId).finally(() => this.inFlight.delete(userId));
      this.inFlight.set(userId, pending);
    }
    return { ...(await pending), validUntil: Date.now() + windowMs };
  }

  private async refresh(userId: number): Promise<SessionState> {
    const [row] = await this.sql.query<{ refresh_token: string; groups: string[] }>("SELECT refresh_token, groups FROM oidc_identities WHERE user_id = $1", [
      userId,
    ]);
    if (!row || row.refresh_token === "") {
      throw new OidcSessionRefused("there is no OIDC session to check the CLI secret against: sign in through the web interface (/c/oidc/login) first");
    }
    let refreshed: OidcRefresh;
    try {
      refreshed = await this.refresher.refresh(this.secrets.open(row.refresh_token));
    } catch (error) {
      if (!(error instanceof OidcRefreshError)) throw error;
      // A dead token stays dead: forget it (unless another node already replaced it) so nobody asks with it again.
      if (error.refused) await this.sql.query("UPDATE oidc_identities SET refresh_token = '' WHERE user_id = $1 AND refresh_token = $2", [userId, row.refresh_token]);
      const advice = error.refused ? "sign in through the web interface again" : "try again later";
      throw new OidcSessionRefused(`the CLI secret is valid only while the OIDC session can be refreshed, and ${error.message}: ${advice}`);
    }
    const groups = refreshed.groups ?? row.groups;
    const { adminGroup } = this.options;
    const sysadmin = adminGroup !== undefined && refreshed.groups !== undefined ? groups.includes(adminGroup) : undefined;
    await this.sql.transaction(async (tx) => {
      // Only over the token used: if another node refreshed meanwhile, its (possibly rotated) token is the one to keep.
      await tx.query(
        "UPDATE oidc_identities SET refresh_token = $3, refresh_checked_at = now(), groups = $4::jsonb WHERE user_id = $1 AND refresh_token = $2",
        [userId, row.refresh_token, this.secrets.seal(refreshed.refreshToken), JSON.stringify(groups)],
      );
      // BERTH_OIDC_ADMIN_GROUP: system admin follows the group at every refresh, as at every sign-in.
      if (sysadmin !== undefined) await tx.query("UPDATE users SET sysadmin = $2, updated_at = now() WHERE id = $1 AND sysadmin <> $2", [userId, sysadmin]);
    });
    return { groups: oidcGroups(groups), sysadmin };
  }
}

function oidcGroups(names: string[]): PrincipalGroup[] {
  return names.map((name) => ({ type: GROUP_TYPES.oidc, name }));
}
