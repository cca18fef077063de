import type { IncomingMessage } from "node:http";
import { markMirrorListenerRequest, Mirror } from "../../../registry/mirror/mirror";

const request = (url: string, host = "registry.example.com"): IncomingMessage => ({ url, headers: { host } }) as IncomingMessage;

describe("Mirror", () => {
  const mirror = new Mirror("hub", "mirror.example.com");

  it("serves requests from its listener, and those naming its host (any case, any port)", () => {
    const fromListener = request("/v2/");
    markMirrorListenerRequest(fromListener);
    expect(mirror.serves(fromListener)).toBe(true);
    expect(mirror.serves(request("/v2/", "Mirror.Example.COM:5443"))).toBe(true);
    expect(mirror.serves(request("/v2/", "mirror.example.com."))).toBe(true);
    expect(mirror.serves(request("/v2/", "registry.example.com"))).toBe(false);
    expect(mirror.serves(request("/v2/", "mirror.example.com.evil"))).toBe(false);
    expect(new Mirror("hub", undefined).serves(request("/v2/", "mirror.example.com"))).toBe(false);
  });

  it("rewrites every repository path into the proxy project, single-segment names under library/", () => {
    const rewrite = (url: string) => mirror.rewrite(request(url, "mirror.example.com"));
    expect(rewrite("/v2/library/busybox/manifests/1")).toBe("/v2/hub/library/busybox/manifests/1");
    expect(rewrite("/v2/busybox/manifests/1")).toBe("/v2/hub/library/busybox/manifests/1");
    expect(rewrite("/v2/team/app/blobs/sha256:abc")).toBe("/v2/hub/team/app/blobs/sha256:abc");
    expect(rewrite("/v2/busybox/tags/list?n=10&last=a")).toBe("/v2/hub/library/busybox/tags/list?n=10&last=a");
    expect(rewrite("/v2/hub/x/referrers/sha256:abc")).toBe("/v2/hub/hub/x/referrers/sha256:abc");
    expect(rewrite("/v2/a/blobs/uploads/")).toBe("/v2/hub/library/a/blobs/uploads/");
    expect(rewrite("/v2/")).toBe("/v2/");
    expect(rewrite("/v2/_catalog")).toBe("/v2/_catalog");
    expect(rewrite("/service/token?scope=x")).toBe("/service/token?scope=x");
    // Not a mirror request: untouched.
    expect(mirror.rewrite(request("/v2/library/busybox/manifests/1"))).toBe("/v2/library/busybox/manifests/1");
  });

  it("names the proxy project's repositories in the token scopes it is asked for, and grants nothing else", () => {
    expect(
      mirror.scopes([
        { type: "repository", name: "library/busybox", actions: ["pull", "push"] },
        { type: "repository", name: "busybox", actions: ["pull"] },
        { type: "registry", name: "catalog", actions: ["*"] },
      ]),
    ).toEqual([
      { type: "repository", name: "hub/library/busybox", actions: ["pull", "push"] },
      { type: "repository", name: "hub/library/busybox", actions: ["pull"] },
      { type: "registry", name: "catalog", actions: [] },
    ]);
  });

  it("speaks the client's names in challenges and listings", () => {
    expect(mirror.challengeScope("repository:hub/library/busybox:pull repository:hub/team/app:pull,push")).toBe("repository:library/busybox:pull repository:team/app:pull,push");
    expect(mirror.clientName("hub/library/busybox")).toBe("library/busybox");
  });
});
