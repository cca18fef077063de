/**
 * Headers every response carries. Berth serves JSON and blobs, no HTML, yet a blob or an error body opened in a
 * browser must not be sniffed into HTML, framed, or allowed to load anything: the headers cost nothing on JSON.
 * HSTS only over TLS, where it is meaningful (browsers ignore it on plain HTTP, and it would be a lie there).
 */
export function responseSecurityHeaders(tls: boolean): Record<string, string> {
  return {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    ...(tls ? { "Strict-Transport-Security": "max-age=31536000" } : {}),
  };
}
