import { lookup as dnsLookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import { AddressRanges } from "./cidr";

/** One address a host name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (injectable: tests change what a name resolves to). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })) as ResolvedAddress[];

/**
 * Never a target, whoever asks: the host itself, the instance metadata services clouds answer on link-local (and
 * the two that live elsewhere: AWS's IPv6 one, Alibaba's), and the unspecified address (which Linux connects to
 * the host). Private ranges are not here: CI servers and other registries live there (BERTH_OUTBOUND_DENY adds them).
 */
const ALWAYS_REFUSED: { rule: string; cidrs: string[] }[] = [
  { rule: "a loopback address", cidrs: ["127.0.0.0/8", "::1/128"] },
  { rule: "a link-local address (cloud metadata)", cidrs: ["169.254.0.0/16", "fe80::/10"] },
  { rule: "a cloud metadata address", cidrs: ["fd00:ec2::254/128", "100.100.100.200/32"] },
  { rule: "an unspecified address", cidrs: ["0.0.0.0/8", "::/128"] },
];

/** An outbound request this registry will not make; the message names the target, the address and the rule. */
export class OutboundRefused extends Error {
  readonly code = "BERTH_OUTBOUND_REFUSED";
  constructor(
    readonly target: string,
    readonly address: string,
    readonly rule: string,
  ) {
    super(`${target}${address === target ? " is" : ` resolves to ${address},`} ${rule}: outbound requests there are refused`);
  }
}

/** An address (or CIDR) and port this registry listens on. */
export interface OwnEndpoint {
  address: string;
  port: number;
}

export interface OutboundGuardOptions {
  /** BERTH_OUTBOUND_DENY: further ranges refused (e.g. private networks the registry must not reach). */
  deny: readonly string[];
  /** BERTH_OUTBOUND_ALLOW: ranges exempted from the rules above (receivers on loopback); never from `own`. */
  allow: readonly string[];
  /** Where this registry listens (known only once it does). */
  own: () => OwnEndpoint[];
  /** BERTH_PUBLIC_URL: this registry as clients name it. */
  publicUrl?: string;
  resolve?: Resolver;
}

const defaultPort = (protocol: string) => (protocol === "https:" ? 443 : 80);

/**
 * The one check every outbound request of the registry passes (webhooks, replication endpoints, proxy caches, token
 * realms, redirects): the target's host is resolved and refused when any of its addresses is refused, so a name with
 * one public and one loopback address is refused too. Connections are then made to an address this check returned
 * (see pinnedLookup and the undici connector), so a DNS answer that changes between check and connect cannot
 * slip through.
 */
export class OutboundGuard {
  private readonly refused = new AddressRanges();
  private readonly allowed = new AddressRanges();
  private readonly resolve: Resolver;
  private readonly publicHost: string | null;

  constructor(private readonly options: OutboundGuardOptions) {
    for (const { rule, cidrs } of ALWAYS_REFUSED) this.refused.add(rule, cidrs);
    this.refused.add("an address in BERTH_OUTBOUND_DENY", options.deny);
    this.allowed.add("allowed", options.allow);
    this.resolve = options.resolve ?? systemResolver;
    this.publicHost = options.publicUrl ? hostKey(new URL(options.publicUrl)) : null;
  }

  /** Resolves `target`'s host and returns its addresses, or throws OutboundRefused (or the resolver's error). */
  async check(target: string | URL): Promise<ResolvedAddress[]> {
    const url = typeof target === "string" ? new URL(target) : target;
    const label = url.host;
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new OutboundRefused(label, url.protocol, "a scheme other than http and https");
    if (this.publicHost !== null && hostKey(url) === this.publicHost) throw new OutboundRefused(label, url.host, "the registry's own public address (BERTH_PUBLIC_URL)");
    const hostname = url.hostname.replace(/^\[|\]$/g, "");
    const port = Number(url.port) || defaultPort(url.protocol);
    const family = isIP(hostname);
    const addresses: ResolvedAddress[] = family !== 0 ? [{ address: hostname, family: family as 4 | 6 }] : await this.resolve(hostname);
    if (addresses.length === 0) throw new Error(`${hostname} has no address`);
    for (const { address } of addresses) {
      const rule = this.ruleFor(address, port);
      if (rule !== null) throw new OutboundRefused(label, address, rule);
    }
    return addresses;
  }

  /**
   * Whether `target` is this registry itself (its public URL's host, or an address and port it listens on): the
   * callers that may talk to themselves (the scanner adapter) go through their own loopback instead.
   */
  async isSelf(target: string | URL): Promise<boolean> {
    const url = typeof target === "string" ? new URL(target) : target;
    if (this.publicHost !== null && hostKey(url) === this.publicHost) return true;
    const hostname = url.hostname.replace(/^\[|\]$/g, "");
    const port = Number(url.port) || defaultPort(url.protocol);
    const own = new AddressRanges().add("own", this.options.own().filter((endpoint) => endpoint.port === port).map((endpoint) => endpoint.address));
    const addresses = isIP(hostname) !== 0 ? [hostname] : (await this.resolve(hostname).catch(() => [])).map((entry) => entry.address);
    return addresses.length > 0 && addresses.every((address) => own.ruleFor(address) !== null);
  }

  /** Why a connection to `address`:`port` is refused, or null. */
  ruleFor(address: string, port: number): string | null {
    const own = new AddressRanges().add("own", this.options.own().filter((endpoint) => endpoint.port === port).map((endpoint) => endpoint.address));
    if (own.ruleFor(address) !== null) return "the registry's own listening address";
    if (this.allowed.ruleFor(address) !== null) return null;
    return this.refused.ruleFor(address);
  }
}

/** `hostname:port` with the scheme's default port filled in, lower case: what "the same host" means here. */
export function hostKey(url: URL): string {
  return `${url.hostname.toLowerCase()}:${Number(url.port) || defaultPort(url.protocol)}`;
}

/**
 * A `lookup` for node's http/https/net that answers with an address the guard already checked instead of asking DNS
 * again (literal IP hosts never reach a lookup: they connect to the literal, which was checked as it is).
 */
export function pinnedLookup(checked: ResolvedAddress): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: checked.address, family: checked.family }]);
    else callback(null, checked.address, checked.family);
  }) as LookupFunction;
}
