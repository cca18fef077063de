import { Agent, buildConnector, type Dispatcher } from "undici";
import type { OutboundGuard } from "./address-guard";

const pools = new WeakMap<OutboundGuard, { secure?: Agent; insecure?: Agent }>();

/**
 * An undici dispatcher (for fetch's `dispatcher`) whose every new connection is first put to the guard: the host is
 * resolved and checked there, and the socket is opened to the checked address (TLS still verifies the certificate
 * for the host name). One connection pool per guard and certificate setting.
 */
export function guardedDispatcher(guard: OutboundGuard, insecure: boolean): Dispatcher {
  const entry = pools.get(guard) ?? {};
  pools.set(guard, entry);
  const key = insecure ? "insecure" : "secure";
  return (entry[key] ??= new Agent({ connect: guardedConnector(guard, insecure) }));
}

function guardedConnector(guard: OutboundGuard, insecure: boolean): buildConnector.connector {
  const connect = buildConnector({ rejectUnauthorized: !insecure });
  return (params, callback) => {
    guard.check(`${params.protocol}//${params.host}`).then(
      // The TLS server name still comes from params.host (undici derives it when servername is unset).
      ([checked]) => connect({ ...params, hostname: checked.address }, callback),
      (error: Error) => callback(error, null),
    );
  };
}
