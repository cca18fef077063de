import { pipeline, Transform } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HarborError } from "../api/errors";
import { OciError } from "../distribution/errors";
import { AddressRateLimiter } from "./address-rate-limit";

export interface AnonymousLimits {
  /** Largest /api or /service request body a client without credentials may send (signed-in callers get 1 MiB). */
  bodyLimitBytes: number;
  /** The whole of such a request must arrive within this many seconds (BERTH_BODY_TIMEOUT_SECONDS for the rest). */
  bodyTimeoutSeconds: number;
  /** Requests per second, on average, from one client address without credentials; 0: no limit. */
  ratePerSecond: number;
  /** Requests one such address may send at once after a quiet spell. */
  burst: number;
}

/**
 * No anonymous /api call needs more than a search or a login-sized body; 10 s is plenty for that much. The rate is
 * well above what anonymous pulls of public images take: a pull is a token, a manifest or two and one request per
 * layer, so a CI fleet behind one NAT address can start several pulls a second without meeting the limit.
 */
export const DEFAULT_ANONYMOUS_LIMITS: AnonymousLimits = {
  bodyLimitBytes: 16 * 1024,
  bodyTimeoutSeconds: 10,
  ratePerSecond: 50,
  burst: 200,
};

function isDistribution(request: FastifyRequest): boolean {
  return request.url === "/v2" || request.url.startsWith("/v2/");
}

/** Whether the request says a body follows (whether or not it has all arrived yet). */
function hasBody(request: FastifyRequest): boolean {
  return request.headers["content-length"] !== undefined || request.headers["transfer-encoding"] !== undefined;
}

/** Fails the body with 413 once more than `limit` bytes came through. */
function cappedBody(limit: number): Transform {
  let received = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (received > limit) return callback(tooLarge(limit));
      callback(null, chunk);
    },
  });
}

function tooLarge(limit: number): HarborError {
  return new HarborError("REQUEST_ENTITY_TOO_LARGE", `requests without credentials may send at most ${limit} bytes; sign in to send more`);
}

/**
 * Requests without credentials cost us as much as signed-in ones but answer to no one, so they get less: a rate per
 * client address (request.ip: the client behind BERTH_TRUSTED_PROXIES), and on /api and /service a smaller body
 * (the shorter deadline is limitSlowClients'). Registered after the hook that authenticates, so `isAnonymous` knows;
 * requests with bad credentials never get here (401, and the login throttle counts them).
 */
export function limitAnonymousClients(app: FastifyInstance, limits: AnonymousLimits, isAnonymous: (request: FastifyRequest) => boolean): void {
  const rate = new AddressRateLimiter(limits);
  app.addHook("onRequest", async (request, reply) => {
    if (!isAnonymous(request)) return;
    const retryAfter = rate.take(request.ip);
    if (retryAfter === 0) return;
    reply.header("Retry-After", String(retryAfter));
    // Its body (if any) is not read: the connection goes with the answer.
    if (hasBody(request)) reply.header("Connection", "close");
    const message = `too many requests without credentials from this address; retry in ${retryAfter} s or sign in`;
    throw isDistribution(request) ? new OciError("TOOMANYREQUESTS", message) : new HarborError("TOO_MANY_REQUEST", message);
  });

  app.addHook("preParsing", async (request, reply, payload) => {
    if (isDistribution(request) || !hasBody(request) || !isAnonymous(request)) return payload;
    const declared = Number(request.headers["content-length"]);
    if (declared > limits.bodyLimitBytes) {
      reply.header("Connection", "close");
      throw tooLarge(limits.bodyLimitBytes);
    }
    // A chunked body says nothing up front: count it as it comes (fastify's parser answers 413 from the error).
    // pipeline, not pipe: a client that hangs up must end the capped stream too, or the parser would wait on it.
    return pipeline(payload, cappedBody(limits.bodyLimitBytes), () => undefined);
  });
}
