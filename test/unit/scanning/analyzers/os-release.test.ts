import { existsSync, readFileSync } from "node:fs";
import { analyze, distributionOf, interest, mergeDistribution, osvEcosystemOf, parseOsRelease } from "../../../../registry/scanning/analyzers/os-release";

const os = (text: string) => Buffer.from(text);

describe("os-release analyzer", () => {
  test.each([
    ["etc/os-release", true],
    ["usr/lib/os-release", true],
    ["etc/debian_version", true],
    ["etc/alpine-release", true],
    ["etc/lsb-release", false],
    ["app/etc/os-release", false],
  ])("interest %s → %s", (path, wanted) => {
    expect(interest(path, 300)).toBe(wanted);
  });

  test("a file over the cap is not wanted", () => {
    expect(interest("etc/os-release", 64 * 1024 + 1)).toBe(false);
  });

  test("quotes, escapes and comments", () => {
    const fields = parseOsRelease('# comment\nNAME="Fancy \\"OS\\""\nID=fancy\r\nVERSION_ID=\'1.2\'\n\nbroken line\n');
    expect(fields.get("NAME")).toBe('Fancy "OS"');
    expect(fields.get("ID")).toBe("fancy");
    expect(fields.get("VERSION_ID")).toBe("1.2");
  });

  test("this machine's os-release (Debian 12)", () => {
    if (!existsSync("/etc/os-release")) return;
    const distribution = distributionOf("etc/os-release", readFileSync("/etc/os-release"));
    expect(distribution).not.toBeNull();
    if (distribution!.id === "debian") expect(osvEcosystemOf(distribution)).toBe(`Debian:${distribution!.versionId.split(".")[0]}`);
  });

  test("debian_version and alpine-release", () => {
    expect(distributionOf("etc/debian_version", os("12.5\n"))).toEqual({ id: "debian", versionId: "12.5", prettyName: "" });
    expect(distributionOf("etc/debian_version", os("trixie/sid\n"))).toEqual({ id: "debian", versionId: "", prettyName: "" });
    expect(distributionOf("etc/alpine-release", os("3.19.1\n"))).toEqual({ id: "alpine", versionId: "3.19.1", prettyName: "" });
    expect(distributionOf("etc/os-release", os("NAME=nothing\n"))).toBeNull();
    expect(analyze("etc/alpine-release", os(""))).toEqual({ packages: [] });
  });

  test("os-release decides; the release file of the same family adds the point release", () => {
    const debian = { id: "debian", versionId: "12", prettyName: "Debian GNU/Linux 12 (bookworm)" };
    expect(mergeDistribution({ "etc/os-release": debian, "etc/debian_version": { id: "debian", versionId: "12.5", prettyName: "" } })).toEqual({ ...debian, versionId: "12.5" });
    // Ubuntu ships Debian's debian_version (`bookworm/sid`): it must not turn the image into Debian.
    const ubuntu = { id: "ubuntu", versionId: "22.04", prettyName: "Ubuntu 22.04.4 LTS" };
    expect(mergeDistribution({ "usr/lib/os-release": ubuntu, "etc/debian_version": { id: "debian", versionId: "", prettyName: "" } })).toEqual(ubuntu);
    // A release file of another release than os-release says is ignored.
    expect(mergeDistribution({ "etc/os-release": debian, "etc/debian_version": { id: "debian", versionId: "11.9", prettyName: "" } })).toEqual(debian);
    expect(mergeDistribution({ "etc/alpine-release": { id: "alpine", versionId: "3.20.3", prettyName: "" } })!.versionId).toBe("3.20.3");
    expect(mergeDistribution({})).toBeNull();
  });

  test.each([
    [{ id: "debian", versionId: "12", prettyName: "" }, "Debian:12"],
    [{ id: "debian", versionId: "12.5", prettyName: "" }, "Debian:12"],
    [{ id: "debian", versionId: "", prettyName: "Debian GNU/Linux trixie/sid" }, "Debian:sid"],
    [{ id: "debian", versionId: "", prettyName: "" }, null],
    [{ id: "alpine", versionId: "3.20.3", prettyName: "" }, "Alpine:v3.20"],
    [{ id: "alpine", versionId: "3", prettyName: "" }, null],
    [{ id: "ubuntu", versionId: "22.04", prettyName: "Ubuntu 22.04.4 LTS" }, "Ubuntu:22.04:LTS"],
    [{ id: "ubuntu", versionId: "24.04", prettyName: "" }, "Ubuntu:24.04:LTS"],
    [{ id: "ubuntu", versionId: "23.10", prettyName: "Ubuntu 23.10" }, "Ubuntu:23.10"],
    [{ id: "ubuntu", versionId: "21.04", prettyName: "Ubuntu 21.04" }, "Ubuntu:21.04"],
    [{ id: "rocky", versionId: "9.4", prettyName: "" }, "Rocky Linux:9"],
    [{ id: "almalinux", versionId: "8.10", prettyName: "" }, "AlmaLinux:8"],
    [{ id: "rhel", versionId: "9.4", prettyName: "" }, null],
    [{ id: "fedora", versionId: "40", prettyName: "" }, null],
    [null, null],
  ])("OSV ecosystem of %j is %s", (distribution, expected) => {
    expect(osvEcosystemOf(distribution)).toBe(expected);
  });
});
