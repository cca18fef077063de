/**
 * Without BERTH_PUBLIC_URL the token realm clients are sent to is built from the request's Host header, so that
 * header must be a host and nothing else: a quote, comma or space in it would add parameters to the
 * WWW-Authenticate challenge, a slash would point the realm elsewhere.
 */
const LABEL = "[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?";
const HOST_AND_PORT = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*\\.?|\\[[0-9A-Fa-f:.]{2,45}\\])(?::\\d{1,5})?$`);

/** A DNS name, IPv4 address or bracketed IPv6 address, with an optional port. */
export function isHostAndPort(value: string): boolean {
  return value.length <= 260 && HOST_AND_PORT.test(value);
}
