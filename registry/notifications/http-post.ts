import http from "node:http";
import https from "node:https";

export interface PostResult {
  status: number | null;
  error: string;
}

// Enough of the receiver's answer to explain a failure in the delivery log, never more.
const BODY_EXCERPT = 512;

/**
 * POSTs `body` to `address`. Resolves (never rejects) with the status, or with the error when there is no answer
 * within `timeoutMs` (a hanging receiver), the connection fails or closes, or the answer is not 2xx.
 */
export function postJson(address: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; skipCertVerify: boolean }): Promise<PostResult> {
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
          resolve({ status, error: ok ? "" : `receiver answered ${status}${excerpt ? `: ${excerpt.trim()}` : ""}` });
        });
        response.on("error", (error) => resolve({ status: response.statusCode ?? null, error: `reading the answer failed: ${error.message}` }));
      },
    );
    // A whole-request deadline: `timeout` above only covers idle sockets, a receiver dribbling bytes could hold on.
    const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    request.on("timeout", () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    request.on("error", (error) => resolve({ status: null, error: error.message }));
    request.on("close", () => clearTimeout(deadline));
    request.end(body);
  });
}
