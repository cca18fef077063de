import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { getBlob, deleteBlob } from "./blobs";
import type { DistributionContext } from "./context";
import { OciError } from "./errors";
import { catalog, listReferrers, listTags } from "./listings";
import { deleteManifest, getManifest, putManifest } from "./manifests";
import { cancelUpload, getUploadStatus, patchUpload, putUpload, startUpload } from "./uploads";

type Handler = (ctx: DistributionContext, request: FastifyRequest, reply: FastifyReply, ...params: string[]) => Promise<unknown>;

interface V2Route {
  /** Label for metrics and logs: bounded, unlike the path. */
  label: string;
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
}

// Repository names contain slashes, so routing is by pattern on the path. Order matters: the upload
// routes must win over the blob route, and the greedy name group takes the last `/blobs/` of the path.
const ROUTES: V2Route[] = [
  { label: "catalog", pattern: /^\/v2\/_catalog$/, methods: { GET: (ctx, req, rep) => catalog(ctx, req, rep) } },
  { label: "upload-start", pattern: /^\/v2\/(.+)\/blobs\/uploads\/?$/, methods: { POST: startUpload } },
  {
    label: "upload",
    pattern: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
    methods: { GET: getUploadStatus, PATCH: patchUpload, PUT: putUpload, DELETE: cancelUpload },
  },
  { label: "blob", pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/, methods: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob } },
  {
    label: "manifest",
    pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/,
    methods: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest },
  },
  { label: "tags", pattern: /^\/v2\/(.+)\/tags\/list$/, methods: { GET: listTags } },
  { label: "referrers", pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/, methods: { GET: listReferrers } },
];

function matchRoute(path: string): { route: V2Route; params: string[] } | null {
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (match) return { route, params: match.slice(1).map(decodeURIComponent) };
  }
  return null;
}

/** Registers the OCI Distribution API under /v2. Errors become the spec's JSON body via the app's handler. */
export function registerDistributionRoutes(app: FastifyInstance, ctx: DistributionContext): void {
  // Bodies on /v2 are blobs and manifests: never parse them, the handlers stream `request.raw`.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null));

  app.get("/v2/", async (request, reply) => {
    if (request.principal.kind === "anonymous") throw new OciError("UNAUTHORIZED");
    return reply.header("Content-Type", "application/json").send("{}");
  });

  app.route({
    method: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    url: "/v2/*",
    handler: async (request, reply) => {
      const path = request.url.split("?", 1)[0];
      const matched = matchRoute(path);
      if (!matched) throw new OciError("NAME_UNKNOWN", `no such endpoint: ${request.method} ${path.slice(0, 200)}`);
      request.routeLabel = `v2:${matched.route.label}`;
      const handler = matched.route.methods[request.method];
      if (!handler) throw new OciError("UNSUPPORTED", `${request.method} is not supported on ${matched.route.label}`);
      return handler(ctx, request, reply, ...matched.params);
    },
  });
}
