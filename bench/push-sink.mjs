#!/usr/bin/env node
// A registry that takes pushes and keeps nothing: the floor under the push rows (issue 20). It answers the calls
// skopeo and podman make to push (GET /v2/, HEAD of blobs and manifests, POST/PATCH/PUT of uploads, PUT of
// manifests), reads every byte they send and throws it away: no authentication, no hashing, no storage. What a push
// into it takes is what the client itself costs plus the loopback, so no registry's push can be faster.
//
//   node bench/push-sink.mjs     prints "listening PORT" on 127.0.0.1, then serves until killed
import { createHash, randomUUID } from "node:crypto";
import { createServer } from "node:http";

const UPLOAD = /^\/v2\/(.+)\/blobs\/uploads\/([^/?]*)(\?.*)?$/;
const BLOB = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/;
const MANIFEST = /^\/v2\/(.+)\/manifests\/([^/?]+)$/;
const received = new Map(); // upload id → bytes so far, for the Range header clients read back

/** Reads the request body to its end; resolves to its length, and to its sha256 when asked (manifests only). */
function drain(request, hash) {
  return new Promise((resolve, reject) => {
    let length = 0;
    const digest = hash ? createHash("sha256") : null;
    request.on("data", (chunk) => {
      length += chunk.length;
      digest?.update(chunk);
    });
    request.on("end", () => resolve({ length, digest: digest ? `sha256:${digest.digest("hex")}` : null }));
    request.on("error", reject);
  });
}

function answer(response, status, headers = {}) {
  response.writeHead(status, { "Docker-Distribution-API-Version": "registry/2.0", "Content-Length": "0", ...headers });
  response.end();
}

const server = createServer(async (request, response) => {
  const url = request.url ?? "/";
  const method = request.method ?? "GET";
  try {
    if (url === "/v2/" || url === "/v2") return answer(response, 200);
    let match = UPLOAD.exec(url);
    if (match) {
      const [, name, id] = match;
      if (method === "POST") {
        const upload = randomUUID();
        received.set(upload, 0);
        return answer(response, 202, { Location: `/v2/${name}/blobs/uploads/${upload}`, Range: "0-0", "Docker-Upload-UUID": upload });
      }
      const { length } = await drain(request, false);
      const total = (received.get(id) ?? 0) + length;
      if (method === "PATCH") {
        received.set(id, total);
        return answer(response, 202, { Location: `/v2/${name}/blobs/uploads/${id}`, Range: `0-${Math.max(total - 1, 0)}`, "Docker-Upload-UUID": id });
      }
      if (method === "PUT") {
        received.delete(id);
        const digest = new URL(url, "http://sink").searchParams.get("digest") ?? "";
        return answer(response, 201, { Location: `/v2/${name}/blobs/${digest}`, "Docker-Content-Digest": digest });
      }
    }
    if (BLOB.test(url) && (method === "HEAD" || method === "GET")) return answer(response, 404);
    match = MANIFEST.exec(url);
    if (match) {
      if (method === "PUT") {
        const { digest } = await drain(request, true);
        return answer(response, 201, { Location: `/v2/${match[1]}/manifests/${digest}`, "Docker-Content-Digest": digest });
      }
      return answer(response, 404);
    }
    await drain(request, false);
    answer(response, 404);
  } catch {
    response.destroy();
  }
});
server.listen(0, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
