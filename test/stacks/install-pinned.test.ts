/**
 * The host script's install_pinned (MinIO, mc) run by bash against a local HTTP server: a file is installed only when
 * its SHA-256 is the pinned one, and a host that already has the pinned file does not download it again.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { INSTALL_PINNED } from "../../stacks/host-setup";
import { describeWithTool } from "../support/tools";

const BINARY = Buffer.from("#!/bin/sh\necho pinned\n");
const SHA256 = createHash("sha256").update(BINARY).digest("hex");

describeWithTool("curl", "install_pinned (host script)", () => {
  let server: Server;
  let url: string;
  let work: string;
  let downloads = 0;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "berth-pinned-"));
    server = createServer((_request, response) => {
      downloads++;
      response.end(BINARY);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/minio`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(work, { recursive: true, force: true });
  });

  /** `install_pinned url sha256 target; echo installed|kept`, with bash's exit code and stderr. */
  function installPinned(sha256: string, target: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const script = `set -euo pipefail\n${INSTALL_PINNED}\nif install_pinned '${url}' '${sha256}' '${target}'; then echo installed; else echo kept; fi\n`;
    return new Promise((resolve) => {
      const child = execFile("bash", ["-c", script], (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }));
      child.stdin?.end();
    });
  }

  it("installs the file executable when its SHA-256 is the pinned one, and keeps it without downloading again", async () => {
    const target = path.join(work, "minio");
    expect(await installPinned(SHA256, target)).toEqual({ code: 0, stdout: "installed\n", stderr: "" });
    expect(await readFile(target)).toEqual(BINARY);
    expect((await stat(target)).mode & 0o777).toBe(0o755);
    const before = downloads;
    expect(await installPinned(SHA256, target)).toEqual({ code: 0, stdout: "kept\n", stderr: "" });
    expect(downloads).toBe(before);
  });

  it("refuses a file with another SHA-256, stops the script and leaves the installed binary alone", async () => {
    const target = path.join(work, "mc");
    await writeFile(target, "the binary installed before", { mode: 0o755 });
    const other = "0".repeat(64);
    const result = await installPinned(other, target);
    expect(result.code).toBe(1);
    // sha256sum says FAILED; the script stops before it could print installed or kept.
    expect(result.stdout).toBe(`${target}.next: FAILED\n`);
    expect(result.stderr).toContain(`${url} does not have the pinned SHA-256 ${other}`);
    expect(await readFile(target, "utf8")).toBe("the binary installed before");
    await expect(stat(`${target}.next`)).rejects.toThrow(/ENOENT/);
  });
});
