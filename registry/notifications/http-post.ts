import http from "node:http";
import https from "node:https";
import { OutboundRefused, pinnedLookup, type OutboundGuard } from "../outbound/address-guard";

export interface PostResult {
  status: number | null;
  /** "" when delivered (2xx); else what went wrong, without the receiver's words. */
  error: string;
  /** An excerpt of the receiver's answer body ("" for none): shown to system admins only. */
  answer: string;
  /** The guard refused the address: trying again cannot help. */
  refused: boolean;
}

// Enough of the receiver's answer to explain a failure in the delivery log, never more.
const BODY_EXCERPT = 512;

/**
 * POSTs `body` to `address`. Resolves (never rejects) with the status, or with the error when the guard refuses the
 * address, there is no answer within `timeoutMs` (a hanging receiver), the connection fails or closes, or the answer
 * is not 2xx. Redirects are not followed (node's http never does): a 3xx is a failure like any other non-2xx.
 */
export async function postJson(
  address: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; skipCertVerify: boolean; guard: OutboundGuard },
): Promise<PostResult> {
  let checked;
  try {
    [checked] = await options.guard.check(address);
  } catch (error) {
    return { status: null, error: (error as Error).message, answer: "", refused: error instanceof OutboundRefused };
  }
  return new Promise((resolve) => {
    const url = new URL(address);
    const client = url.protocol === "https:" ? https : http;
    const request = client.request(
      url,
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), "User-Agent": "berth-webhook", ...headers },
        rejectUnauthorized: !options.skipCertVerify,
        timeout: options.timeoutMs,
        // The connection goes to the address just checked, not to whatever DNS answers a moment later.
        lookup: pinnedLookup(checked),
        // A fresh connection each time: a pooled socket would skip the lookup above.
        agent: false,
      },
      (response) => {
        let excerpt = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          if (excerpt.length < BODY_EXCERPT) excerpt += chunk.slice(0, BODY_EXCERPT - excerpt.length);
        });
        response.on("end", () => {
          const status = response.statusCode ?? null;
          const ok = status !== null && status >= 200 && status < 300;
          resolve({ status, error: ok ? "" : `receiver answered ${status}`, answer: ok ? "" : excerpt.trim(), refused: false });
        });
        response.on("error", (error) => resolve({ status: response.statusCode ?? null, error: `reading the answer failed: ${error.message}`, answer: "", refused: false }));
      },
    );
    // A whole-request deadline: `timeout` above only covers idle sockets, a receiver dribbling bytes could hold on.
    const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    request.on("timeout", () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    request.on("error", (error) => resolve({ status: null, error: error.message, answer: "", refused: false }));
    request.on("close", () => clearTimeout(deadline));
    request.end(body);
  });
}
