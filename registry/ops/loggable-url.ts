/** Query parameters that carry credentials when a client puts them in the URL (OAuth's access_token and the like). */
const SECRET_PARAMETERS = /^(access_token|token|password|secret|client_secret|refresh_token|api_key|apikey)$/i;

/**
 * The request URL as it may be logged: the values of credential-carrying query parameters replaced, so a token a
 * client sent in the URL never lands in the log. The path and other parameters are kept as sent.
 */
export function loggableUrl(url: string): string {
  const query = url.indexOf("?");
  if (query < 0) return url;
  const parts = url
    .slice(query + 1)
    .split("&")
    .map((part) => {
      const name = part.split("=")[0];
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, " "));
      } catch {
        // a malformed escape: judge the name as it was sent
      }
      return SECRET_PARAMETERS.test(decoded) ? `${name}=[redacted]` : part;
    });
  return `${url.slice(0, query)}?${parts.join("&")}`;
}
