import { createHash, randomBytes } from "node:crypto";
import type { Queryable } from "../db/sql";
import { hashPassword, verifyPassword } from "./password";
import { DEFAULT_LOGIN_CACHE_LIMITS, type LoginCacheLimits } from "./login-cache";
import { DEFAULT_LOGIN_MEMO_MS, LoginThrottle } from "./login-throttle";
import { RobotStore, ROBOT_PREFIX, scopesOf } from "../robots/store";
import { ANONYMOUS, GROUP_TYPES, type Principal } from "./principal";
import { LdapUnavailableError, type UserDirectory } from "../identity/ldap/directory";
import { onboardLdapUser } from "../identity/ldap/onboarding";
import { OidcSessionRefused, type OidcCliSecrets } from "../identity/oidc/cli-secret";

export class TooManyAttemptsError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed logins; try again in ${retryAfterSeconds} s`);
  }
}

export class BadCredentialsError extends Error {
  constructor(message = "invalid username or password") {
    super(message);
  }
}

/** The credentials were right but the account may not log in (a disabled or expired robot). */
export class AccountRefusedError extends BadCredentialsError {}

/** The directory (ldap mode) did not answer: nothing is known about the credentials, so no failure is counted. */
export class DirectoryUnavailableError extends BadCredentialsError {
  constructor() {
    super("the LDAP directory is unavailable; try again later");
  }
}

/** Oidc mode: the CLI secret was right, but the user's session at the provider no longer refreshes (or was not checked). */
export class OidcSessionRefusedError extends AccountRefusedError {}

/** Bootstrap's administrator: always signs in with its local password, whatever the auth mode. */
export const BUILT_IN_ADMIN = "admin";

interface CachedLogin {
  username: string;
  principal: Principal;
  expires: number;
}

/**
 * A secret proven right, by the same key as the login cache (a hash of the header, so of username and password):
 * the stored hash it was checked against. While the account's row still holds that very hash, the same header
 * carries the same password and needs no scrypt; a password change writes a new hash (new salt), so the old
 * password is refused at once, on every node.
 */
interface VerifiedSecret {
  storedHash: string;
  expires: number;
}

let unknownAccount: Promise<string> | null = null;

/**
 * A hash to check passwords of unknown accounts against, so that answering "no such user" costs as much scrypt time
 * as "wrong password" and response times do not tell which usernames exist.
 */
function unknownAccountHash(): Promise<string> {
  unknownAccount ??= hashPassword(randomBytes(16).toString("hex"));
  return unknownAccount;
}

/** Resolves the Authorization header of a request into a Principal. */
export class Authenticator {
  private readonly cache = new Map<string, CachedLogin>();
  /** Secrets proven right, by cache key; consulted when the login cache has nothing (see VerifiedSecret). */
  private readonly verified = new Map<string, VerifiedSecret>();
  /**
   * Logins being checked now, by the same key as the cache. When a remembered login expires, every request already
   * on its way with that header misses the cache at once; they wait for one scrypt instead of each running its own
   * (32 MiB and ~50 ms of a libuv thread apiece: the two-node soak saw RSS jump by 130 MB every 30 s).
   */
  private readonly inFlight = new Map<string, Promise<Principal>>();
  /**
   * Bumped by every `forget`: a check that began before a password change, a removal or a disabling must not store
   * its result afterwards, or the old secret would keep working for the cache's lifetime.
   */
  private epoch = 0;

  constructor(
    private readonly db: Queryable,
    private readonly robots = new RobotStore(db),
    private readonly throttle = new LoginThrottle(),
    /** Set in ldap mode: every user but the built-in admin is checked against it. */
    private readonly directory?: UserDirectory,
    /** Set in oidc mode: every user but the built-in admin logs in with their CLI secret. */
    private readonly cliSecrets?: OidcCliSecrets,
    private readonly cacheLimits: LoginCacheLimits = DEFAULT_LOGIN_CACHE_LIMITS,
    /** How long a verified secret spares scrypt while the stored hash is unchanged; 0 turns that off. */
    private readonly memoMs = DEFAULT_LOGIN_MEMO_MS,
  ) {}

  async authenticate(authorization: string | undefined, clientAddress = ""): Promise<Principal> {
    if (!authorization) return ANONYMOUS;
    const [scheme, value] = authorization.split(" ", 2);
    if (scheme.toLowerCase() !== "basic" || !value) throw new BadCredentialsError();
    const key = createHash("sha256").update(value).digest("base64");
    const cached = this.cache.get(key);
    if (cached && cached.expires > Date.now()) return cached.principal;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const attempt: Promise<Principal> = this.checkCredentials(key, value, clientAddress).finally(() => {
      if (this.inFlight.get(key) === attempt) this.inFlight.delete(key);
    });
    this.inFlight.set(key, attempt);
    return attempt;
  }

  /** Verifies Basic credentials (`value`, base64) and remembers a successful login under `key`. */
  private async checkCredentials(key: string, value: string, clientAddress: string): Promise<Principal> {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    // containers/image (skopeo, podman) answers a Basic challenge with empty credentials when it has none.
    if (decoded === ":") return ANONYMOUS;
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new BadCredentialsError();
    const username = decoded.slice(0, colon);
    const epoch = this.epoch;
    const blockedMs = this.throttle.blockedFor(username, clientAddress);
    if (blockedMs > 0) throw new TooManyAttemptsError(Math.ceil(blockedMs / 1000));
    let principal: Principal;
    const ttlMs = this.cacheLimits.ttlSeconds * 1000;
    let validUntil = Date.now() + ttlMs;
    try {
      ({ principal, validUntil = validUntil } = await this.login(username, decoded.slice(colon + 1), key));
    } catch (error) {
      if (error instanceof BadCredentialsError && !(error instanceof AccountRefusedError) && !(error instanceof DirectoryUnavailableError)) {
        this.throttle.recordFailure(username, clientAddress);
      }
      throw error;
    }
    this.throttle.recordSuccess(username, clientAddress);
    if (epoch !== this.epoch) return principal;
    // BERTH_LOGIN_CACHE_SECONDS=0: nothing is remembered, every request's credentials are checked.
    if (ttlMs === 0) return principal;
    if (this.cache.size >= this.cacheLimits.max) this.cache.delete(this.cache.keys().next().value!);
    // A CLI secret's login is remembered no longer than the provider's last word on the session holds.
    this.cache.set(key, { username: decoded.slice(0, colon), principal, expires: Math.min(Date.now() + ttlMs, validUntil) });
    return principal;
  }

  /** Drops remembered logins of a user or robot (by login name) whose secret, rights or existence just changed. */
  forget(username: string): void {
    this.epoch += 1;
    // Checks under way may have read the old secret: later requests start their own instead of joining them.
    this.inFlight.clear();
    for (const [key, login] of this.cache) if (login.username === username) this.cache.delete(key);
    // Not needed for safety (the stored hash decides), but nothing of a changed account is kept longer than needed.
    this.verified.clear();
  }

  /**
   * Checks `secret` against `storedHash` with scrypt, unless this very header (`key`) was proven right against this
   * very stored hash within the memo's lifetime.
   */
  private async secretMatches(key: string, secret: string, storedHash: string | undefined): Promise<boolean> {
    const now = Date.now();
    const known = this.verified.get(key);
    if (storedHash !== undefined && known && known.storedHash === storedHash && known.expires > now) return true;
    const matches = await verifyPassword(secret, storedHash ?? (await unknownAccountHash()));
    if (storedHash === undefined || !matches) {
      this.verified.delete(key);
      return false;
    }
    if (this.memoMs > 0) {
      this.verified.delete(key); // re-inserted last: the oldest entries go first when the map is full
      if (this.verified.size >= this.cacheLimits.max) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(key, { storedHash, expires: now + this.memoMs });
    }
    return true;
  }

  /** The principal, and for CLI secrets until when the provider's check holds (else the cache's usual lifetime). */
  private async login(username: string, password: string, key: string): Promise<{ principal: Principal; validUntil?: number }> {
    if (username.startsWith(ROBOT_PREFIX)) return { principal: await this.robotLogin(username, password, key) };
    if (this.directory && username !== BUILT_IN_ADMIN) return { principal: await this.directoryLogin(this.directory, username, password) };
    if (this.cliSecrets && username !== BUILT_IN_ADMIN) return this.cliSecretLogin(this.cliSecrets, username, password, key);
    const [user] = await this.db.query<{ id: number; username: string; password_hash: string; sysadmin: boolean }>(
      "SELECT id, username, password_hash, sysadmin FROM users WHERE username = $1",
      [username],
    );
    if (!(await this.secretMatches(key, password, user?.password_hash)) || !user) throw new BadCredentialsError();
    return { principal: { kind: "user", id: user.id, username: user.username, sysadmin: user.sysadmin } };
  }

  /**
   * Oidc mode: OIDC users have no password, so command-line clients send the user's CLI secret. It counts only while
   * the user's session at the provider still refreshes (Harbor's rule), checked at most every
   * BERTH_OIDC_REFRESH_CHECK_SECONDS; the user's groups are those of the last sign-in or refresh.
   */
  private async cliSecretLogin(cliSecrets: OidcCliSecrets, username: string, secret: string, key: string): Promise<{ principal: Principal; validUntil: number }> {
    const account = await cliSecrets.account(username);
    if (!(await this.secretMatches(key, secret, account?.secretHash || undefined)) || !account) throw new BadCredentialsError();
    let session;
    try {
      session = await cliSecrets.checkSession(account.userId);
    } catch (error) {
      if (error instanceof OidcSessionRefused) throw new OidcSessionRefusedError(error.message);
      throw error;
    }
    const principal: Principal = { kind: "user", id: account.userId, username: account.username, sysadmin: session.sysadmin ?? account.sysadmin, groups: session.groups };
    return { principal, validUntil: session.validUntil };
  }

  /**
   * Ldap mode: the directory proves the password; the user row is created at the first sign-in. Groups (and with
   * them admin rights from BERTH_LDAP_GROUP_ADMIN_DN) are read at every sign-in and live as long as the cached login.
   */
  private async directoryLogin(directory: UserDirectory, username: string, password: string): Promise<Principal> {
    let person;
    try {
      person = await directory.authenticate(username, password);
    } catch (error) {
      if (error instanceof LdapUnavailableError) throw new DirectoryUnavailableError();
      throw error;
    }
    if (!person) throw new BadCredentialsError();
    const user = await onboardLdapUser(this.db, person);
    return {
      kind: "user",
      id: user.id,
      username: user.username,
      sysadmin: user.sysadmin || directory.isAdmin(person),
      // The directory's groups, by DN: project memberships of these LDAP groups grant their roles.
      groups: person.groupDns.map((dn) => ({ type: GROUP_TYPES.ldap, name: dn })),
    };
  }

  private async robotLogin(loginName: string, secret: string, key: string): Promise<Principal> {
    const robot = await this.robots.credentialsOf(loginName.slice(ROBOT_PREFIX.length));
    if (!(await this.secretMatches(key, secret, robot?.secret_hash)) || !robot) throw new BadCredentialsError();
    // Told only to whoever holds the secret, so it leaks nothing and saves a support ticket.
    if (robot.disabled) throw new AccountRefusedError(`robot account ${loginName} is disabled`);
    if (robot.expires_at !== -1 && robot.expires_at * 1000 <= Date.now()) {
      throw new AccountRefusedError(`robot account ${loginName} has expired`);
    }
    return { kind: "robot", id: robot.id, name: loginName, scopes: scopesOf(robot.permissions) };
  }
}
