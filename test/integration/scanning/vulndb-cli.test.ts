import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ADMIN_PASSWORD, startBerth, type TestBerth } from "../../support/berth";
import { spawnCli } from "../../support/cli";
import { manyDebianRecords, osvRecord, osvZip } from "../../support/osv-records";
import { buildZip } from "../../support/zip-writer";
import { takePort } from "../../support/taken-port";

/** `berth vulndb …` from dist/ (npm run build) against a running registry. */
describe("berth vulndb", () => {
  let berth: TestBerth;
  let dir: string;
  let env: Record<string, string>;
  const vulndb = async (args: string[], extra: Record<string, string> = {}) => spawnCli("berth", ["vulndb", ...args], { ...env, ...extra }).exited;

  beforeAll(async () => {
    berth = await startBerth();
    dir = await mkdtemp(path.join(tmpdir(), "vulndb-cli-"));
    env = { BERTH_REGISTRY_URL: berth.url, BERTH_REGISTRY_USER: "admin", BERTH_REGISTRY_PASSWORD: ADMIN_PASSWORD };
    await mkdir(path.join(dir, "osv", "Debian"), { recursive: true });
    await mkdir(path.join(dir, "records", "nested"), { recursive: true });
    await writeFile(path.join(dir, "osv", "Debian", "all.zip"), osvZip([osvRecord("DEBIAN-CVE-2026-0200", "Debian:12", "bash", "5.2.15-2+deb12u1")]));
    await writeFile(path.join(dir, "records", "a.json"), JSON.stringify(osvRecord("GHSA-cli-a", "npm", "lodash", "4.17.21")));
    await writeFile(path.join(dir, "records", "nested", "b.json"), JSON.stringify([osvRecord("GHSA-cli-b", "PyPI", "Django", "4.2.11"), { id: "GHSA-cli-broken" }]));
    // Stored, not deflated: a body well over fastify's 1 MiB JSON limit, which streamed imports do not have.
    await writeFile(path.join(dir, "big.zip"), buildZip(manyDebianRecords(3000).map((record) => ({ name: `${record.id}.json`, data: JSON.stringify(record) }))));
    await writeFile(path.join(dir, "single.json"), JSON.stringify(osvRecord("GHSA-cli-c", "Go", "golang.org/x/crypto", "0.31.0")));
  });
  afterAll(async () => {
    await berth.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("imports zips, JSON files and directories through the API, naming an all.zip by its ecosystem, and shows the status", async () => {
    const clean = await vulndb(["import", path.join(dir, "osv"), path.join(dir, "single.json")]);
    expect(clean.stderr).toBe("");
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('all.zip → "Debian": imported 1, skipped 0 (not newer), invalid 0');
    expect(clean.stdout).toContain(`single.json → "${path.join(dir, "single.json")}": imported 1`);

    const withInvalid = await vulndb(["import", path.join(dir, "records")]);
    expect(withInvalid.code).toBe(1);
    expect(withInvalid.stdout).toContain(`${path.join(dir, "records")} (2 JSON files) → "${path.join(dir, "records")}": imported 2, skipped 0 (not newer), invalid 1`);
    expect(withInvalid.stdout).toContain("invalid: GHSA-cli-broken: modified is missing or not a string");

    const big = await vulndb(["import", path.join(dir, "big.zip")]);
    expect(big.stdout).toContain(`big.zip → "${path.join(dir, "big.zip")}": imported 3000, skipped 0 (not newer), invalid 0`);

    const status = await vulndb(["status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^generation 4, 3004 records\n/);
    expect(status.stdout).toContain("mirror sync: off (BERTH_VULNDB_URL is not set on the registry)");
    expect(status.stdout).toMatch(/\nDebian +1 +2026-01-01T00:00:00.000Z +just now +\+1 =0 !0\n/);
  });

  it("says what is wrong with a file, the settings, the credentials or the server, with its own exit code", async () => {
    await writeFile(path.join(dir, "broken.zip"), "not a zip");
    const refused = await vulndb(["import", path.join(dir, "broken.zip"), path.join(dir, "missing.json")]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("broken.zip: refused: 400: nothing was imported: the body is not a zip archive");
    expect(refused.stderr).toContain("missing.json: cannot read: ENOENT");

    const unset = await vulndb(["status"], { BERTH_REGISTRY_PASSWORD: "" });
    expect(unset).toMatchObject({ code: 2, stderr: "berth vulndb: set BERTH_REGISTRY_PASSWORD (the registry's URL and a system admin's credentials)\n" });
    const badPassword = await vulndb(["status"], { BERTH_REGISTRY_PASSWORD: "wrong-password" });
    expect(badPassword.code).toBe(3);
    expect(badPassword.stderr).toMatch(/^berth vulndb: the registry refused the credentials/);
    // A port that was just free: nothing listens there now.
    const port = await takePort();
    await port.release();
    const unreachable = await vulndb(["status"], { BERTH_REGISTRY_URL: `http://127.0.0.1:${port.port}` });
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toMatch(/^berth vulndb: cannot reach the registry at http:\/\/127\.0\.0\.1:\d+: /);
    expect((await vulndb(["import"])).code).toBe(2);
    expect((await vulndb(["frobnicate"])).code).toBe(2);
  });
});
