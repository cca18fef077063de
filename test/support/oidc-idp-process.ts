/**
 * The test OpenID provider (oidc-provider, see oidc-idp.mjs) in its own process, for integration tests and browser
 * journeys: `issuer` once it listens, `configure` registers Berth's callback URL as the client's redirect URI.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";

const IDP_SCRIPT = path.join(__dirname, "oidc-idp.mjs");

/** The client the IdP knows Berth as (BERTH_OIDC_CLIENT_ID, and the content of BERTH_OIDC_CLIENT_SECRET_FILE). */
export const IDP_CLIENT_ID = "berth";
export const IDP_CLIENT_SECRET = "berth-client-secret";

/** The password the IdP's sign-in form takes for an account (alice, bob, carol, mallory). */
export const idpPassword = (account: string) => `${account}-password`;

export interface TestIdp {
  issuer: string;
  configure(redirectUri: string): Promise<void>;
  stop(): void;
}

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
    stop: () => child.kill(),
  };
}
