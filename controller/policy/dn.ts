/**
 * What is wrong with an LDAP distinguished name as members.yaml writes one (RFC 4514: `cn=devs,ou=groups,dc=example`,
 * attribute names or OIDs, `\,` `\+` `\\` `\2C` escapes, `#hex` values, multi-valued RDNs with `+`), or null. Spaces
 * around separators are allowed, as directories and the registry (which compares DNs so) accept them.
 */
export function dnProblem(dn: string): string | null {
  if (dn.trim() === "") return "is empty";
  if (/\p{Cc}/u.test(dn)) return "holds a control character";
  let i = 0;
  const skipSpaces = () => {
    while (dn[i] === " ") i += 1;
  };
  for (;;) {
    skipSpaces();
    const type = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)/.exec(dn.slice(i))?.[0];
    if (!type) return `expected an attribute name (cn, ou, dc, …) at character ${i + 1}`;
    i += type.length;
    skipSpaces();
    if (dn[i] !== "=") return `expected "=" after "${type}" at character ${i + 1}`;
    i += 1;
    skipSpaces();
    const start = i;
    if (dn[i] === "#") {
      const hex = /^#(?:[0-9A-Fa-f]{2})+/.exec(dn.slice(i))?.[0];
      if (!hex) return `"${type}": a value starting with # must be hex pairs (escape it as \\#)`;
      i += hex.length;
    } else {
      while (i < dn.length && dn[i] !== "," && dn[i] !== "+") {
        const c = dn[i];
        if (c === "\\") {
          const next = dn.slice(i + 1, i + 3);
          if (/^[0-9A-Fa-f]{2}$/.test(next)) i += 3;
          else if (next !== "" && ` "#+,;<=>\\`.includes(next[0])) i += 2;
          else return `"${type}": "\\" at character ${i + 1} escapes nothing that needs it`;
        } else if (`"<>;`.includes(c)) {
          return `"${type}": ${c} at character ${i + 1} must be escaped (\\${c})`;
        } else {
          i += 1;
        }
      }
    }
    if (dn.slice(start, i).trim() === "") return `"${type}" has no value`;
    if (i >= dn.length) return null;
    i += 1; // a "," or "+": another RDN, or another value of this one
    if (dn.slice(i).trim() === "") return `ends with "${dn[i - 1]}"`;
  }
}

/**
 * A DN as the registry compares group DNs (user_groups.ldap_group_dn, registry/groups tidyDn): case-insensitively and
 * without spaces around the separators.
 */
export const normalDn = (dn: string): string => dn.trim().replace(/\s*,\s*/g, ",").toLowerCase();
