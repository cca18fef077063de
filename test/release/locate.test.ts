/** stacks/release.ts: how the stacks find the artifact `npm run release` wrote, in a temp checkout of its own. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { releaseArtifact } from "../../stacks/release";

describe("releaseArtifact", () => {
  let root: string;
  const fileName = "berth-1.2.3-linux-arm64.tar.gz";
  const sha256 = "ab".repeat(32);

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "berth-release-root-"));
    await writeFile(path.join(root, "package.json"), JSON.stringify({ name: "berth", version: "1.2.3" }));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  async function writeRelease(checksumLine: string) {
    await mkdir(path.join(root, "release"));
    await writeFile(path.join(root, "release", fileName), "not really a tarball");
    await writeFile(path.join(root, "release", `${fileName}.sha256`), checksumLine);
  }

  it("says to run npm run release when there is no artifact for the version and arch", async () => {
    expect(() => releaseArtifact(root, "arm64")).toThrow(`release/${fileName} (and its .sha256) is missing: run npm run release first`);
    await writeRelease(`${sha256}  ${fileName}\n`);
    expect(() => releaseArtifact(root, "x64")).toThrow("berth-1.2.3-linux-x64.tar.gz (and its .sha256) is missing: run npm run release first");
  });

  it("gives the version, arch, file name, path and the checksum file's SHA-256", async () => {
    await writeRelease(`${sha256}  ${fileName}\n`);
    expect(releaseArtifact(root, "arm64")).toEqual({ version: "1.2.3", arch: "arm64", fileName, path: path.join(root, "release", fileName), sha256 });
  });

  it("refuses a checksum file that names another file or is not sha256sum's format", async () => {
    await writeRelease(`${sha256}  berth-1.2.2-linux-arm64.tar.gz\n`);
    expect(() => releaseArtifact(root, "arm64")).toThrow(`is not "<sha256>  ${fileName}": run npm run release again`);
    await writeFile(path.join(root, "release", `${fileName}.sha256`), `${sha256.slice(2)}  ${fileName}\n`);
    expect(() => releaseArtifact(root, "arm64")).toThrow("run npm run release again");
  });
});
