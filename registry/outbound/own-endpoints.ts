import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import type { OwnEndpoint } from "./address-guard";

/**
 * Where a server listening at `listening` can be reached from this host: its address, or for a wildcard every
 * interface's; loopback listening covers all of 127/8 (Linux routes it all to the host). Empty before it listens.
 */
export function ownEndpoints(listening: AddressInfo | string | null): OwnEndpoint[] {
  if (listening === null || typeof listening === "string") return [];
  const wildcard = listening.address === "0.0.0.0" || listening.address === "::";
  const addresses = wildcard ? Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((entry) => entry.address)) : [listening.address];
  if (wildcard || listening.address.startsWith("127.") || listening.address === "::1") addresses.push("127.0.0.0/8", "::1");
  return addresses.map((address) => ({ address, port: listening.port }));
}
