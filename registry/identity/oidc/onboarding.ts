import type { Sql } from "../../db/sql";
import type { SecretBox } from "../../secrets/secret-box";
import { usernameProblem } from "../../users/password-policy";
import { UserStore } from "../../users/store";
import type { OidcIdentity } from "./provider";
import { OidcSignInError } from "./sign-in-error";

// Not a scrypt hash: verifyPassword refuses it, so an onboarded user has no password until the CLI secret exists.
const NO_PASSWORD = "oidc";

export interface SignedInUser {
  id: number;
  username: string;
  sysadmin: boolean;
}

/**
 * Automatic onboarding: the provider account (issuer + subject) is linked to one Berth user, created at its first
 * sign-in under the username claim. A name already held by another user (a local one, or another provider account)
 * is refused, never merged: taking over an account by naming oneself after it is the attack. The refresh token is
 * kept sealed; with BERTH_OIDC_ADMIN_GROUP set, system admin follows the group at every sign-in.
 */
export class OidcOnboarding {
  private readonly users: UserStore;

  constructor(
    private readonly sql: Sql,
    private readonly secrets: SecretBox,
    private readonly adminGroup: string | undefined,
  ) {
    this.users = new UserStore(sql);
  }

  async signIn(identity: OidcIdentity): Promise<SignedInUser> {
    const problem = usernameProblem(identity.username) ?? (identity.username.includes(":") ? "username must not contain :" : null);
    return this.sql.transaction(async (tx) => {
      const [linked] = await tx.query<{ user_id: number }>("SELECT user_id FROM oidc_identities WHERE issuer = $1 AND subject = $2", [
        identity.issuer,
        identity.subject,
      ]);
      let userId = linked?.user_id;
      if (userId === undefined) {
        if (problem) throw new OidcSignInError(`the provider's username ${JSON.stringify(identity.username)} cannot be used: ${problem}`);
        const created = await this.users.create(
          { username: identity.username, email: identity.email, realname: identity.username, comment: "onboarded by OIDC", passwordHash: NO_PASSWORD },
          tx,
        );
        if (created === null) throw new OidcSignInError(`the username ${identity.username} is already taken by another user`);
        userId = created;
        await tx.query("INSERT INTO oidc_identities (user_id, issuer, subject) VALUES ($1, $2, $3)", [userId, identity.issuer, identity.subject]);
      }
      // A sign-in is a fresh session: it vouches for the CLI secret as a refresh would, with the groups it brought.
      await tx.query("UPDATE oidc_identities SET refresh_token = $2, groups = $3::jsonb, refresh_checked_at = now(), updated_at = now() WHERE user_id = $1", [
        userId,
        this.secrets.seal(identity.refreshToken),
        JSON.stringify(identity.groups),
      ]);
      if (this.adminGroup !== undefined) {
        await tx.query("UPDATE users SET sysadmin = $2, updated_at = now() WHERE id = $1", [userId, identity.groups.includes(this.adminGroup)]);
      }
      const [user] = await tx.query<SignedInUser>("SELECT id, username, sysadmin FROM users WHERE id = $1", [userId]);
      return user;
    });
  }
}
