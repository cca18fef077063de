/**
 * Java archives (.jar, .war, .ear) (issue 16): each `META-INF/maven/<group>/<artifact>/pom.properties` that Maven
 * writes into the archives it builds names one artifact (shaded jars carry one per artifact they absorbed), and
 * archives nested inside (WEB-INF/lib/*.jar in a war, BOOT-INF/lib/*.jar in a Spring Boot jar, jars in an ear) are
 * read the same way, within a depth and size budget.
 *
 * Archives without pom.properties are not guessed from MANIFEST.MF: Implementation-Title is usually a display name
 * ("Apache Commons Lang"), not an artifactId, and a wrong name is worse than none for matching. Trivy identifies such
 * jars by SHA-1 in its Java DB, which we do not have.
 */
import yauzl from "yauzl";
import type { Package } from "../inventory";
import { purl } from "./purl";
import { readAll } from "../../storage/read-all";

export interface JavaLimits {
  /** The largest archive read from a layer (proposed: BERTH_SCAN_JAVA_ARCHIVE_MAX_BYTES). */
  archiveMaxBytes: number;
  /** The largest nested archive inflated into memory (proposed: BERTH_SCAN_JAVA_NESTED_MAX_BYTES). */
  nestedArchiveMaxBytes: number;
  /** Bytes inflated for nested archives in one top-level archive, all together: a cap against zip bombs (proposed: BERTH_SCAN_JAVA_NESTED_TOTAL_MAX_BYTES). */
  nestedTotalMaxBytes: number;
  /** How deep archives nest: 1 reads the jars in a war, 2 the jars in a war in an ear (proposed: BERTH_SCAN_JAVA_MAX_NESTING). */
  maxNestingDepth: number;
  /** Entries read in one archive before giving up on it (proposed: BERTH_SCAN_JAVA_MAX_ENTRIES). */
  maxEntries: number;
}

export const DEFAULT_JAVA_LIMITS: JavaLimits = {
  archiveMaxBytes: 256 * 1024 * 1024,
  nestedArchiveMaxBytes: 64 * 1024 * 1024,
  nestedTotalMaxBytes: 256 * 1024 * 1024,
  maxNestingDepth: 2,
  maxEntries: 100_000,
};

/** pom.properties is a handful of lines. */
const POM_PROPERTIES_MAX_BYTES = 64 * 1024;
const ARCHIVE_NAME = /\.(?:jar|war|ear)$/i;
const POM_PROPERTIES = /^META-INF\/maven\/([^/]+)\/([^/]+)\/pom\.properties$/;

export function interest(path: string, size: number, limits: JavaLimits = DEFAULT_JAVA_LIMITS): boolean {
  return size <= limits.archiveMaxBytes && ARCHIVE_NAME.test(path);
}

/** java.util.Properties, the part Maven writes: `key=value` or `key: value` lines, `#`/`!` comments. */
export function parseProperties(text: string): Map<string, string> {
  const properties = new Map<string, string>();
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) continue;
    const separator = /[=:]/.exec(line);
    if (!separator) continue;
    properties.set(line.slice(0, separator.index).trim(), line.slice(separator.index + 1).trim());
  }
  return properties;
}

function mavenPackage(groupId: string, artifactId: string, version: string, path: string): Package {
  const name = `${groupId}:${artifactId}`;
  return {
    ecosystem: "Maven",
    name,
    version,
    sourceName: name,
    sourceVersion: version,
    path,
    purl: purl("maven", [groupId, artifactId], version),
  };
}

interface Walk {
  limits: JavaLimits;
  nestedBytesLeft: number;
  packages: Package[];
  seen: Set<string>;
}

/** Every entry of a zip, one at a time (yauzl's lazy mode keeps memory flat however many entries there are). */
async function forEachEntry(zip: yauzl.ZipFile, maxEntries: number, visit: (entry: yauzl.Entry) => Promise<void>): Promise<void> {
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    zip.on("error", reject);
    zip.on("end", () => resolve());
    zip.on("entry", (entry: yauzl.Entry) => {
      if (++count > maxEntries) {
        zip.close();
        resolve();
        return;
      }
      visit(entry).then(() => zip.readEntry(), reject);
    });
    zip.readEntry();
  });
}

async function walkArchive(content: Buffer, archivePath: string, depth: number, walk: Walk): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(content, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true });
  } catch {
    return; // Not a zip (or a damaged one): the JVM could not load it either.
  }
  const { limits } = walk;
  try {
    await forEachEntry(zip, limits.maxEntries, async (entry) => {
      const pom = POM_PROPERTIES.exec(entry.fileName);
      if (pom) {
        if (entry.uncompressedSize > POM_PROPERTIES_MAX_BYTES) return;
        const data = await readAll(await zip.openReadStreamPromise(entry), POM_PROPERTIES_MAX_BYTES);
        if (!data) return;
        const properties = parseProperties(data.toString("latin1"));
        const groupId = properties.get("groupId") || pom[1]!;
        const artifactId = properties.get("artifactId") || pom[2]!;
        const version = properties.get("version") ?? "";
        const where = `${archivePath}!/${entry.fileName}`;
        const key = `${groupId}:${artifactId}@${version}`;
        if (version !== "" && !walk.seen.has(key)) {
          walk.seen.add(key);
          walk.packages.push(mavenPackage(groupId, artifactId, version, where));
        }
        return;
      }
      if (depth < limits.maxNestingDepth && ARCHIVE_NAME.test(entry.fileName)) {
        const size = entry.uncompressedSize;
        if (size > limits.nestedArchiveMaxBytes || size > walk.nestedBytesLeft) return;
        walk.nestedBytesLeft -= size;
        // yauzl checks the inflated size against the declared one, so a lying header cannot exceed the budget.
        const nested = await readAll(await zip.openReadStreamPromise(entry), size);
        if (nested) await walkArchive(nested, `${archivePath}!/${entry.fileName}`, depth + 1, walk);
      }
    });
  } catch {
    // A damaged entry ends this archive's walk; what was found before it stands.
  } finally {
    zip.close();
  }
}

/**
 * Maven artifacts in a Java archive and the archives nested in it. `Package.path` names nested files the way Java
 * URLs do: `app.war!/WEB-INF/lib/x.jar!/META-INF/maven/g/a/pom.properties`. An artifact found twice (the same
 * group, artifact and version) is listed once.
 */
export async function analyze(path: string, content: Buffer, limits: JavaLimits = DEFAULT_JAVA_LIMITS): Promise<Package[]> {
  const walk: Walk = { limits, nestedBytesLeft: limits.nestedTotalMaxBytes, packages: [], seen: new Set() };
  await walkArchive(content, path, 0, walk);
  return walk.packages;
}
