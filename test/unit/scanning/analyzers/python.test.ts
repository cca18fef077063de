import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { analyze, interest, normalizePythonName, PYTHON_METADATA_MAX_BYTES } from "../../../../registry/scanning/analyzers/python";
import { describeIf } from "../../../support/tools";

// The header of Debian 12's python3-yaml METADATA, verbatim (the description after the blank line is trimmed).
const PYYAML_METADATA = `Metadata-Version: 2.1
Name: PyYAML
Version: 6.0
Summary: YAML parser and emitter for Python
Home-page: https://pyyaml.org/
Download-URL: https://pypi.org/project/PyYAML/
Author: Kirill Simonov
Author-email: xi@resolvent.net
License: MIT
Project-URL: Bug Tracker, https://github.com/yaml/pyyaml/issues
Platform: Any
Requires-Python: >=3.6
License-File: LICENSE

YAML is a data serialization format designed for human readability
Name: NotThis
Version: 0.0
`;

describe("python analyzer: interest", () => {
  test.each([
    ["usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA", true],
    ["usr/local/lib/python3.12/site-packages/requests-2.32.3.dist-info/METADATA", true],
    ["usr/lib/python3/dist-packages/PyJWT-2.6.0.egg-info/PKG-INFO", true],
    ["usr/lib/python3/dist-packages/six-1.16.0.egg-info", true], // a bare egg-info file
    ["usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/RECORD", false],
    ["usr/lib/python3/dist-packages/foo/METADATA", false],
    ["srv/app/PKG-INFO", false],
  ])("%s → %s", (file, wanted) => {
    expect(interest(file, 100)).toBe(wanted);
  });

  test("files over the cap are not wanted", () => {
    expect(interest("a-1.dist-info/METADATA", PYTHON_METADATA_MAX_BYTES + 1)).toBe(false);
    expect(interest("a-1.dist-info/METADATA", 2000, 1000)).toBe(false);
  });
});

describe("python analyzer: analyze", () => {
  test("METADATA: name and version from the header block only, name normalised for matching and the purl", () => {
    const file = "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA";
    expect(analyze(file, Buffer.from(PYYAML_METADATA))).toEqual([
      { ecosystem: "PyPI", name: "PyYAML", version: "6.0", sourceName: "pyyaml", sourceVersion: "6.0", path: file, purl: "pkg:pypi/pyyaml@6.0" },
    ]);
  });

  test("CRLF line ends and folded fields", () => {
    const text = "Metadata-Version: 1.1\r\nName: zope.interface\r\nLicense: ZPL\r\n  continued: not a field\r\nVersion: 5.5.2\r\n\r\nbody";
    const [pkg] = analyze("x.egg-info/PKG-INFO", Buffer.from(text));
    expect(pkg).toMatchObject({ name: "zope.interface", version: "5.5.2", sourceName: "zope-interface", purl: "pkg:pypi/zope-interface@5.5.2" });
  });

  test.each([
    ["Django", "django"],
    ["zope.interface", "zope-interface"],
    ["python_apt", "python-apt"],
    ["Foo__-._Bar", "foo-bar"],
    ["lazr.restfulclient", "lazr-restfulclient"],
  ])("PEP 503: %s → %s", (name, normalized) => {
    expect(normalizePythonName(name)).toBe(normalized);
  });

  test.each([
    ["no Version", "Name: x\n\n"],
    ["no Name", "Version: 1.0\n"],
    ["Name only after the header block", "Metadata-Version: 2.1\n\nName: x\nVersion: 1\n"],
    ["empty", ""],
  ])("%s gives no package", (_label, text) => {
    expect(analyze("x-1.dist-info/METADATA", Buffer.from(text))).toEqual([]);
  });
});

// Real distro-installed distributions, where the machine has them: the version in each directory name
// (PyYAML-6.0.dist-info, PyJWT-2.6.0.egg-info) is the one pip wrote into the metadata, so it checks the parse.
const distPackages = "/usr/lib/python3/dist-packages";
const realMetadata = existsSync(distPackages)
  ? readdirSync(distPackages)
      .map((entry) => {
        const match = /^(.+)-([0-9][^-]*?)\.(dist-info|egg-info)$/.exec(entry);
        if (!match) return null;
        const dir = path.join(distPackages, entry);
        const file = match[3] === "dist-info" ? path.join(dir, "METADATA") : statSync(dir).isDirectory() ? path.join(dir, "PKG-INFO") : dir;
        return existsSync(file) ? { file, name: match[1]!, version: match[2]! } : null;
      })
      .filter((m): m is { file: string; name: string; version: string } => m !== null)
  : [];

describeIf(realMetadata.length > 0, `Debian's Python packages in ${distPackages} (apt install python3-yaml)`, `python analyzer on ${distPackages} (${realMetadata.length} distributions)`, () => {
  test("every distribution's name and version match its directory name", () => {
    for (const { file, name, version } of realMetadata) {
      const relative = file.slice(1);
      expect(interest(relative, statSync(file).size)).toBe(true);
      const packages = analyze(relative, readFileSync(file));
      expect(packages).toHaveLength(1);
      // Directory names are escaped with _ for -, so compare normalised names.
      expect(normalizePythonName(packages[0]!.name)).toBe(normalizePythonName(name));
      expect(packages[0]!.version).toBe(version);
    }
  });
});
