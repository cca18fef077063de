import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatStatus } from "../../../controller/status";
import { isRemote, normalizeRepo } from "../../../controller/watch/source";
import { describeSource, sameSource } from "../../../registry/gitops/ownership";

describe("policy source identity", () => {
  it("tells remotes from paths", () => {
    expect(isRemote("https://git.example.com/platform/policies.git")).toBe(true);
    expect(isRemote("ssh://git@git.example.com/policies")).toBe(true);
    expect(isRemote("git@git.example.com:platform/policies.git")).toBe(true);
    expect(isRemote("/srv/policies")).toBe(false);
    expect(isRemote("../policies")).toBe(false);
    expect(isRemote("C:/policies")).toBe(false);
  });

  it("spells one repository one way", async () => {
    expect(await normalizeRepo("https://git.example.com/policies.git/")).toBe("https://git.example.com/policies");
    // A token in the URL is never stored in the registry or logged.
    expect(await normalizeRepo("https://ci:s3cr3t-token@git.example.com/policies.git")).toBe("https://git.example.com/policies");
    const dir = await mkdtemp(path.join(tmpdir(), "berth-source-"));
    try {
      await symlink(dir, `${dir}-link`);
      expect(await normalizeRepo(`${dir}-link`)).toBe(await normalizeRepo(dir));
      expect(await normalizeRepo(path.join(dir, ".git"))).toBe(await normalizeRepo(dir));
    } finally {
      await rm(`${dir}-link`, { force: true });
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("compares repository, branch and directory", () => {
    const main = { repo: "/srv/policies", branch: "main", dir: "" };
    expect(sameSource(main, { ...main })).toBe(true);
    expect(sameSource(main, { ...main, branch: "feature" })).toBe(false);
    expect(sameSource(main, { ...main, dir: "team-a" })).toBe(false);
    expect(describeSource({ repo: "/srv/policies", branch: "main", dir: "team-a" })).toBe("/srv/policies (branch main) directory team-a");
  });
});

describe("berth-controller status", () => {
  it("says who manages the registry and why a watcher is not ready", () => {
    const text = formatStatus(
      {
        suspended: false,
        suspend_reason: "",
        lock: null,
        source: { repo: "/data/policies", branch: "main", dir: "", claimed_by: "system:controller (vm:1:run)", claimed_at: "2026-12-02T10:00:00.000Z" },
        watchers: [
          {
            name: "vm (berth serve)",
            updated_at: "2026-12-02T10:05:00.000Z",
            status: { source: "/data/policies (branch nope)", revision: null, appliedRevision: null, lastResult: null, lastError: 'branch "nope" does not exist', ready: false },
          },
        ],
      },
      undefined,
    );
    expect(text).toBe(
      [
        "managed by:  /data/policies (branch main), since 2026-12-02T10:00:00Z (system:controller (vm:1:run))",
        "suspended:   no",
        "apply lock:  free",
        "last run:    none",
        "watcher:     vm (berth serve), reported 2026-12-02T10:05:00Z",
        "  source:    /data/policies (branch nope)",
        "  revision:  - (applied: -, last result: -)",
        '  state:     NOT READY: branch "nope" does not exist',
        "",
      ].join("\n"),
    );
  });
});
