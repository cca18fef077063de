/** A browser's view of Berth's web UI for HTTP-level tests: a cookie jar of one cookie, and the CSRF token it was told. */
export interface SignedIn {
  cookie: string;
  csrf: string;
  setCookie: string;
}

export async function signIn(baseUrl: string, principal: string, password: string, init: { cookie?: string; form?: boolean } = {}): Promise<Response> {
  const body = init.form ? new URLSearchParams({ principal, password }).toString() : JSON.stringify({ principal, password });
  return fetch(`${baseUrl}/c/login`, {
    method: "POST",
    headers: {
      "Content-Type": init.form ? "application/x-www-form-urlencoded" : "application/json",
      ...(init.cookie ? { Cookie: init.cookie } : {}),
    },
    body,
  });
}

/** Signs in and returns the session cookie (as a browser would send it back) and the CSRF token. */
export async function signedIn(baseUrl: string, principal: string, password: string): Promise<SignedIn> {
  const response = await signIn(baseUrl, principal, password);
  if (response.status !== 200) throw new Error(`sign-in answered ${response.status}: ${await response.text()}`);
  const setCookie = response.headers.get("set-cookie")!;
  return { cookie: setCookie.split(";")[0], csrf: response.headers.get("x-harbor-csrf-token")!, setCookie };
}

export function withSession(session: SignedIn, init: RequestInit & { csrf?: string | null } = {}): RequestInit {
  const headers = new Headers(init.headers);
  headers.set("Cookie", session.cookie);
  const csrf = init.csrf === undefined ? session.csrf : init.csrf;
  if (csrf !== null) headers.set("X-Harbor-CSRF-Token", csrf);
  return { ...init, headers };
}
