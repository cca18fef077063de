import { randomUUID } from "node:crypto";
import type * as CycloneDx from "@cyclonedx/cyclonedx-library";
import { loadOnFirstUse } from "../../lazy-module";
import type { Inventory, Package } from "../inventory";

/** The media type of the SBOM Berth stores as an OCI referrer and serves through Harbor's SBOM scan type. */
export const CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json";

/** What the SBOM describes: one image (an OCI manifest) in one repository. */
export interface SbomSubject {
  repository: string;
  /** The manifest digest, `sha256:…`. */
  digest: string;
}

export interface SbomOptions {
  /** The scanner's name and version, recorded as the tool that produced the BOM. */
  tool: { name: string; version: string };
  /** When the BOM was made; now by default. */
  timestamp?: Date;
  /** The BOM's serial number, `urn:uuid:…`; random by default (fixed in tests for byte-stable output). */
  serialNumber?: string;
}

// Loaded at the first SBOM: it was the largest library the server loaded at start.
const cycloneDx = loadOnFirstUse(() => require("@cyclonedx/cyclonedx-library") as typeof CycloneDx);

const SUBJECT_REF = "image";
const OS_REF = "os";

/**
 * One CycloneDX 1.5 JSON document for an image's inventory: the image as the BOM's subject, its distribution as an
 * operating-system component, and each package as a library with its purl. Where vulnerability data is keyed by
 * another name than the installed one (Debian's source package, Alpine's origin), that name and version travel as
 * properties named as Trivy names them, so tools that read Trivy's SBOMs read ours.
 */
export function cycloneDxSbom(subject: SbomSubject, inventory: Inventory, options: SbomOptions): string {
  const CDX = cycloneDx();
  const bom = new CDX.Models.Bom();
  bom.serialNumber = options.serialNumber ?? `urn:uuid:${randomUUID()}`;
  bom.metadata.timestamp = options.timestamp ?? new Date();
  bom.metadata.tools.components.add(new CDX.Models.Component(CDX.Enums.ComponentType.Application, options.tool.name, { version: options.tool.version }));
  const image = new CDX.Models.Component(CDX.Enums.ComponentType.Container, subject.repository, { version: subject.digest, bomRef: SUBJECT_REF });
  bom.metadata.component = image;

  if (inventory.distribution) {
    const { id, versionId, prettyName } = inventory.distribution;
    const os = new CDX.Models.Component(CDX.Enums.ComponentType.OperatingSystem, id, { version: versionId || undefined, bomRef: OS_REF, description: prettyName || undefined });
    bom.components.add(os);
    image.dependencies.add(os.bomRef);
  }
  const seen = new Set<string>();
  for (const pkg of inventory.packages) {
    // One component per purl and place: the same package found twice in one file is listed once.
    const ref = `${pkg.purl}#${pkg.path}`;
    if (seen.has(ref)) continue;
    seen.add(ref);
    const component = libraryComponent(pkg, ref);
    bom.components.add(component);
    image.dependencies.add(component.bomRef);
  }
  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot5));
  return serializer.serialize(bom, { sortLists: true });
}

function libraryComponent(pkg: Package, ref: string): CycloneDx.Models.Component {
  const CDX = cycloneDx();
  const component = new CDX.Models.Component(CDX.Enums.ComponentType.Library, pkg.name, { version: pkg.version || undefined, bomRef: ref });
  component.purl = pkg.purl;
  const properties: [string, string][] = [["berth:ecosystem", pkg.ecosystem], ["berth:path", pkg.path]];
  if (pkg.sourceName !== pkg.name) properties.push(["aquasecurity:trivy:SrcName", pkg.sourceName]);
  if (pkg.sourceVersion !== pkg.version) properties.push(["aquasecurity:trivy:SrcVersion", pkg.sourceVersion]);
  if (pkg.arch) properties.push(["berth:arch", pkg.arch]);
  for (const [name, value] of properties) component.properties.add(new CDX.Models.Property(name, value));
  return component;
}
