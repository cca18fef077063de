// A test OpenID provider (oidc-provider) on 127.0.0.1, run as its own process: oidc-provider is ESM-only and Jest on
// Node 20 loads ESM packages only when told. Protocol: it prints {"issuer"} once listening, reads one line with the
// client's redirect URI from stdin, then prints {"ready":true}. Then each stdin line {"disable":"<account>"} disables
// that account (it can no longer sign in, and its refresh tokens are refused: the user "removed at the provider") and
// prints {"disabled":"<account>"}; {"account","groups"} changes an account's groups claim and prints it back. Interactions are answered without a form: the browser's
// GET /interaction/<uid>?login=<account> signs in as that account and grants what was asked.
import { createServer } from "node:http";
import { createInterface } from "node:readline";
import Provider from "oidc-provider";

const ACCOUNTS = {
  alice: { preferred_username: "alice", email: "alice@example.test", groups: ["devs", "berth-admins"] },
  bob: { preferred_username: "bob", email: "bob@example.test", groups: ["devs"] },
  carol: { preferred_username: "carol", email: "carol@example.test", groups: ["ops"] },
  // A name a local user holds already: onboarding must refuse it, not merge.
  mallory: { preferred_username: "admin", email: "mallory@example.test", groups: [] },
};

/** Accounts disabled by the test: findAccount no longer finds them, so oidc-provider refuses their refresh tokens. */
const disabled = new Set();

let provider = null;
const server = createServer(async (req, res) => {
  if (!provider) return void res.writeHead(503).end();
  const url = new URL(req.url, "http://idp");
  if (url.pathname.startsWith("/interaction/")) return void (await interact(req, res, url.searchParams.get("login")).catch((error) => res.writeHead(500).end(String(error))));
  provider.callback()(req, res);
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
process.stdout.write(`${JSON.stringify({ issuer })}\n`);

const lines = createInterface({ input: process.stdin });
const redirectUri = await new Promise((resolve) => lines.once("line", resolve));
lines.on("line", (line) => {
  const { disable, account, groups } = JSON.parse(line);
  if (disable) {
    disabled.add(disable);
    process.stdout.write(`${JSON.stringify({ disabled: disable })}\n`);
  } else {
    ACCOUNTS[account].groups = groups;
    process.stdout.write(`${JSON.stringify({ account, groups })}\n`);
  }
});
provider = new Provider(issuer, {
  clients: [
    {
      client_id: "berth",
      client_secret: "berth-client-secret",
      redirect_uris: [redirectUri.trim()],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
    },
  ],
  claims: { openid: ["sub"], profile: ["preferred_username"], email: ["email"], groups: ["groups"] },
  scopes: ["openid", "offline_access", "profile", "email", "groups"],
  // The claims of the granted scopes go into the ID token too (what Berth reads), not only to userinfo.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  async findAccount(_ctx, id) {
    const account = disabled.has(id) ? undefined : ACCOUNTS[id];
    return account && { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
  cookies: { keys: ["test-idp-cookie-key"] },
  // oidc-provider drops offline_access unless prompt=consent was asked; like most providers, issue one anyway.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
  // Every refresh hands out a new refresh token and consumes the old one (reusing it revokes the grant), as providers
  // that rotate do: Berth must keep the newest.
  rotateRefreshToken: true,
});
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

async function interact(req, res, login) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === "login") {
    if (!ACCOUNTS[login] || disabled.has(login)) return void res.writeHead(400).end("unknown or disabled account");
    return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  const missing = details.prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
}
