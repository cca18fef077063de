import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { HarborError } from "../api/errors";
import type { UiAsset, UiBundle } from "./ui-assets";

/** The UI's own path prefix: its client routes live under it, so they cannot clash with /v2, /api, /c, /service… */
export const UI_PREFIX = "/ui";

export function isUiPage(url: string): boolean {
  return url === "/" || url === UI_PREFIX || url.startsWith(`${UI_PREFIX}/`) || url.startsWith(`${UI_PREFIX}?`);
}

const IMMUTABLE = "public, max-age=31536000, immutable";

/** The stored form the client accepts best: brotli, then gzip, else the plain bytes. */
function send(request: FastifyRequest, reply: FastifyReply, asset: UiAsset, cacheControl: string) {
  const accepted = String(request.headers["accept-encoding"] ?? "");
  const [encoding, body] = asset.br && /\bbr\b/.test(accepted) ? ["br", asset.br] : asset.gzip && /\bgzip\b/.test(accepted) ? ["gzip", asset.gzip] : [null, asset.body];
  if (encoding) reply.header("Content-Encoding", encoding);
  return reply.header("Vary", "Accept-Encoding").header("Cache-Control", cacheControl).type(asset.contentType).send(body);
}

/**
 * The web UI, served by the registry itself: `/` leads to it, /ui/assets/<hashed name> are cached for a year, and
 * every other /ui path answers index.html (the client's router reads the path), never cached so a new build shows.
 */
export function registerUiRoutes(app: FastifyInstance, bundle: UiBundle | null): void {
  const notBuilt = () => new HarborError("NOT_FOUND", "the web UI is not built: run npm run build");
  app.get("/", async (_request, reply) => reply.redirect(`${UI_PREFIX}/`, 302));
  app.get<{ Params: { name: string } }>(`${UI_PREFIX}/assets/:name`, async (request, reply) => {
    const asset = bundle?.assets.get(request.params.name);
    if (!asset) throw bundle ? new HarborError("NOT_FOUND", `no such file: ${request.params.name.slice(0, 200)}`) : notBuilt();
    return send(request, reply, asset, IMMUTABLE);
  });
  const page = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!bundle) throw notBuilt();
    return send(request, reply, bundle.index, "no-cache");
  };
  app.get(UI_PREFIX, page);
  app.get(`${UI_PREFIX}/*`, page);
}
