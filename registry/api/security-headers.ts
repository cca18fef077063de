/**
 * Headers every response carries. Berth's API serves JSON and blobs, no HTML, yet a blob or an error body opened in
 * a browser must not be sniffed into HTML, framed, or allowed to load anything: the headers cost nothing on JSON.
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

/**
 * The web UI's pages and files (registry/ui): scripts, styles and requests from this origin only, no inline script
 * or style (the build emits none), images also as data: URLs, never framed, forms posting only here.
 */
export const UI_CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export function uiSecurityHeaders(tls: boolean): Record<string, string> {
  return {
    ...responseSecurityHeaders(tls),
    "Content-Security-Policy": UI_CONTENT_SECURITY_POLICY,
    // Page paths name projects and repositories, which other sites need not learn.
    "Referrer-Policy": "same-origin",
  };
}
