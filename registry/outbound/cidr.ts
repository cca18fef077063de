import { BlockList, isIP } from "node:net";

/** A named set of address ranges: which rule an address falls under, for a refusal that says why. */
export class AddressRanges {
  private readonly lists: { rule: string; list: BlockList }[] = [];

  /** Adds `cidrs` (`10.0.0.0/8`, `fe80::/10`, or single addresses) under `rule`. */
  add(rule: string, cidrs: readonly string[]): this {
    if (cidrs.length === 0) return this;
    const list = new BlockList();
    for (const cidr of cidrs) {
      const { address, prefix, family } = parseCidr(cidr);
      list.addSubnet(address, prefix, family);
    }
    this.lists.push({ rule, list });
    return this;
  }

  /**
   * The rule `address` falls under, or null. IPv4 rules also match the IPv4-mapped IPv6 form (`::ffff:127.0.0.1`),
   * which connects to the same IPv4 host (node's BlockList does this itself).
   */
  ruleFor(address: string): string | null {
    const family = isIP(address);
    if (family === 0) return null;
    const type = family === 4 ? "ipv4" : "ipv6";
    for (const { rule, list } of this.lists) if (list.check(address, type)) return rule;
    return null;
  }
}

/** `a.b.c.d/n`, `v6/n` or a single address; throws with what is wrong. */
export function parseCidr(value: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } {
  const [address, prefix, ...rest] = value.trim().split("/");
  const family = isIP(address);
  const bits = family === 4 ? 32 : 128;
  if (family === 0 || rest.length > 0 || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits))) {
    throw new Error(`"${value}" is not an IP address or CIDR (for example 10.0.0.0/8 or fd00::/8)`);
  }
  return { address, prefix: prefix === undefined ? bits : Number(prefix), family: family === 4 ? "ipv4" : "ipv6" };
}
