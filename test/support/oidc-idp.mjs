// A test OpenID provider (oidc-provider) on 127.0.0.1, run as its own process: oidc-provider is ESM-only and Jest on
// Node 20 loads ESM packages only when told. Protocol: it prints {"issuer"} once listening, reads one line with the
// client's redirect URI from stdin, then prints {"ready":true}. Then each stdin line {"disable":"<account>"} disables
// that account (it can no longer sign in, and its refresh tokens are refused: the user "removed at the provider") and
// prints {"disabled":"<account>"}; {"account","groups"} changes an account's groups claim and prints it back.
// Interactions are answered without a form when the
// browser's GET /interaction/<uid>?login=<account> names the account (signs in as it and grants what was asked);
// without ?login= they are the provider's own pages a person fills in: a sign-in form (account and password, see
// PASSWORDS) posted to /interaction/<uid>/login, then a consent page posted to /interaction/<uid>/confirm.
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

/** The sign-in form's passwords: "<account>-password". */
const PASSWORDS = Object.fromEntries(Object.keys(ACCOUNTS).map((id) => [id, `${id}-password`]));

let provider = null;
const server = createServer(async (req, res) => {
  if (!provider) return void res.writeHead(503).end();
  const url = new URL(req.url, "http://idp");
  // Browsers ask for it; a 404 would be a console error in the journeys' watched pages.
  if (url.pathname === "/favicon.ico") return void res.writeHead(204).end();
  const failed = (error) => res.writeHead(500).end(String(error));
  const form = /^\/interaction\/[^/]+\/(login|confirm)$/.exec(url.pathname);
  if (form && req.method === "POST") return void (await submitted(req, res, form[1]).catch(failed));
  if (url.pathname.startsWith("/interaction/")) {
    const login = url.searchParams.get("login");
    return void (await (login === null ? page(req, res) : interact(req, res, login)).catch(failed));
  }
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

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function html(res, status, title, body) {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;background:#eef1f5;margin:0}main{max-width:22rem;margin:10vh auto;background:#fff;border:1px solid #cbd2d9;border-radius:8px;padding:1.5rem 2rem}
h1{font-size:1.3rem;margin:0 0 .25rem}p{color:#52606d}label{display:block;font-weight:600;margin:.75rem 0 .25rem}input{width:100%;box-sizing:border-box;padding:.45rem;font:inherit}
button{margin-top:1rem;width:100%;padding:.5rem;font:inherit;background:#3e4c59;color:#fff;border:0;border-radius:4px}.error{color:#b42318}li{margin:.2rem 0}</style></head>
<body><main><p>Test identity provider</p>${body}</main></body></html>`);
}

/** The page a person sees at /interaction/<uid>: the sign-in form, or the consent page once signed in. */
async function page(req, res, error) {
  const details = await provider.interactionDetails(req, res);
  const action = `/interaction/${details.uid}`;
  if (details.prompt.name === "login") {
    return html(res, 200, "Sign in", `<h1>Sign in</h1>
<form method="post" action="${action}/login" autocomplete="off">
<label for="account">Account</label><input id="account" name="account" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" required>
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ""}<button type="submit">Sign in</button></form>`);
  }
  const scopes = [...new Set([...(details.prompt.details.missingOIDCScope ?? [])])];
  return html(res, 200, "Authorize", `<h1>Authorize ${escape(details.params.client_id)}</h1>
<p>Signed in as <strong>${escape(details.session.accountId)}</strong>. The application asks for:</p>
<ul>${scopes.map((scope) => `<li>${escape(scope)}</li>`).join("")}</ul>
<form method="post" action="${action}/confirm"><button type="submit">Allow</button></form>`);
}

async function formBody(req) {
  let text = "";
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 4096) throw new Error("form too large");
  }
  return new URLSearchParams(text);
}

/** A posted sign-in form (account and password checked) or consent (what was asked is granted). */
async function submitted(req, res, step) {
  const body = await formBody(req);
  if (step === "login") {
    const account = body.get("account") ?? "";
    if (!ACCOUNTS[account] || disabled.has(account) || PASSWORDS[account] !== body.get("password")) return page(req, res, "Wrong account or password.");
    return interact(req, res, account);
  }
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name !== "consent") return void res.writeHead(400).end("nothing to consent to");
  return interact(req, res, details.session.accountId);
}
