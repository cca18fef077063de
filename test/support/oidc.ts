/**
 * Driving the test OpenID provider (oidc-idp.mjs) without a browser: start it, follow the sign-in's redirects by
 * hand with a cookie jar, and tell it to disable an account.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { RECEIVERS_ON_LOOPBACK } from "./berth";

const IDP_SCRIPT = path.join(__dirname, "oidc-idp.mjs");

export interface TestIdp {
  issuer: string;
  /** Registers Berth's callback URL with the provider's client; the provider serves from then on. */
  configure(redirectUri: string): Promise<void>;
  /** Disables an account at the provider: it can no longer sign in, and its refresh tokens no longer refresh. */
  disable(account: string): Promise<void>;
  /** Changes the groups claim the provider gives an account from now on (sign-ins and refreshes). */
  setGroups(account: string, groups: string[]): Promise<void>;
  stop(): void;
}

/** The test IdP in its own process; see oidc-idp.mjs for the stdin/stdout protocol. */
export async function startIdp(): Promise<TestIdp> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [IDP_SCRIPT], { stdio: "pipe" });
  const stderr: string[] = [];
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      lines.once("line", (line) => resolve(JSON.parse(line) as Record<string, unknown>));
      child.once("exit", (code) => reject(new Error(`the test IdP exited (${code}): ${stderr.join("")}`)));
    });
  const { issuer } = await next();
  return {
    issuer: issuer as string,
    configure: async (redirectUri) => {
      child.stdin.write(`${redirectUri}\n`);
      await next();
    },
    disable: async (account) => {
      child.stdin.write(`${JSON.stringify({ disable: account })}\n`);
      const answer = await next();
      if (answer.disabled !== account) throw new Error(`the test IdP did not disable ${account}: ${JSON.stringify(answer)}`);
    },
    setGroups: async (account, groups) => {
      child.stdin.write(`${JSON.stringify({ account, groups })}\n`);
      const answer = await next();
      if (answer.account !== account) throw new Error(`the test IdP did not change the groups of ${account}: ${JSON.stringify(answer)}`);
    },
    stop: () => child.kill(),
  };
}

/** A browser's cookies, by name (both servers are on 127.0.0.1, and browsers do not separate cookies by port either). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const gone = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute) || /^\s*expires=thu, 01 jan 1970/i.test(attribute));
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1).trim());
    }
  }
}

/**
 * Follows redirects by hand, as a browser would, until a response that is not one (or `stopAt` matches the URL). At
 * the provider's interaction page, `login` names the account to sign in as (the test IdP has no form).
 */
export async function browse(jar: CookieJar, start: string, options: { login?: string; stopAt?: (url: URL) => boolean } = {}) {
  let url = new URL(start);
  for (let hop = 0; hop < 20; hop++) {
    if (options.stopAt?.(url)) return { url, response: null };
    if (url.pathname.startsWith("/interaction/") && options.login) url.searchParams.set("login", options.login);
    const response = await fetch(url, { redirect: "manual", headers: { cookie: jar.header() } });
    jar.take(response);
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || !location) return { url, response };
    await response.arrayBuffer();
    url = new URL(location, url);
  }
  throw new Error("too many redirects");
}

/** Signs `login` in to Berth at `berthUrl` through the provider; the jar then holds the UI session's cookie. */
export async function signInThroughIdp(berthUrl: string, login: string) {
  const jar = new CookieJar();
  const { url, response } = await browse(jar, `${berthUrl}/c/oidc/login`, { login, stopAt: (at) => at.pathname.startsWith("/ui/") });
  return { jar, url, response };
}

/** The client the test IdP knows Berth as (BERTH_OIDC_CLIENT_ID, and the content of BERTH_OIDC_CLIENT_SECRET_FILE). */
export const IDP_CLIENT_ID = "berth";
export const IDP_CLIENT_SECRET = "berth-client-secret";

/** The password the test IdP's own sign-in form takes for an account (alice, bob, carol, mallory). */
export const idpPassword = (account: string) => `${account}-password`;

/**
 * The BERTH_* settings of a Berth in oidc mode against `idp`: the client secret written into `dir`, the provider on
 * loopback allowed past the outbound guard, and the scopes that bring groups and a refresh token.
 */
export async function oidcModeEnv(idp: TestIdp, dir: string): Promise<Record<string, string>> {
  const secretFile = path.join(dir, "client-secret");
  await writeFile(secretFile, `${IDP_CLIENT_SECRET}\n`);
  return {
    ...RECEIVERS_ON_LOOPBACK,
    BERTH_AUTH_MODE: "oidc",
    BERTH_OIDC_ISSUER: idp.issuer,
    BERTH_OIDC_CLIENT_ID: IDP_CLIENT_ID,
    BERTH_OIDC_CLIENT_SECRET_FILE: secretFile,
    BERTH_OIDC_SCOPES: "openid profile email groups offline_access",
  };
}
