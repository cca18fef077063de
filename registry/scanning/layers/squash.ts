/**
 * An image's inventory from its layers' inventories, bottom layer first (issue 16), as the layers would stack in an
 * overlay filesystem (OCI image-spec layer.md): per layer, its opaque directories hide what lower layers put below
 * them, its whiteouts delete paths with everything below, and then its own files replace the same paths — in that
 * order whatever the tar order, since a layer's markers never hide its own files.
 */
import { posix } from "node:path";
import type { Distribution, Ecosystem, Inventory, Package } from "../inventory";
import { osPurl, type OsPackageType } from "../analyzers/os-purl";
import { ALPINE_RELEASE_PATH, DEBIAN_VERSION_PATH, mergeDistribution, OS_RELEASE_PATHS } from "../analyzers/os-release";
import { LAYER_INVENTORY_VERSION, type LayerFile, type LayerInventory } from "./layer-inventory";

type ViewEntry = { kind: "file"; file: LayerFile } | { kind: "symlink"; target: string };

export class StaleLayerInventoryError extends Error {
  constructor(readonly found: number) {
    super(`a layer inventory of version ${found} cannot be squashed with version ${LAYER_INVENTORY_VERSION}: read the layer again`);
    this.name = "StaleLayerInventoryError";
  }
}

function isBelow(path: string, dir: string): boolean {
  return dir === "" ? true : path.startsWith(`${dir}/`);
}

function deleteMatching(view: Map<string, ViewEntry>, matches: (path: string) => boolean): void {
  for (const path of [...view.keys()]) if (matches(path)) view.delete(path);
}

/** The file a path leads to in the squashed view, following symlinks (relative ones from the link's directory). */
function lookup(view: Map<string, ViewEntry>, path: string): LayerFile | undefined {
  let current = path;
  for (let hops = 0; hops < 16; hops++) {
    const entry = view.get(current);
    if (!entry) return undefined;
    if (entry.kind === "file") return entry.file;
    const target = entry.target.startsWith("/") ? entry.target : posix.join(posix.dirname(current), entry.target);
    // `..` cannot climb above the root, as in the kernel's path walk.
    current = posix.normalize(`/${target}`).slice(1);
  }
  return undefined; // A symlink loop.
}

const DISTRIBUTION_PATHS = [...OS_RELEASE_PATHS, DEBIAN_VERSION_PATH, ALPINE_RELEASE_PATH];

function distributionOf(view: Map<string, ViewEntry>): Distribution | null {
  const found: Record<string, Distribution> = {};
  for (const path of DISTRIBUTION_PATHS) {
    const distribution = lookup(view, path)?.distribution;
    if (distribution) found[path] = distribution;
  }
  return mergeDistribution(found);
}

const RPM_FAMILY: Record<string, { ecosystem: Ecosystem; namespace: string }> = {
  rhel: { ecosystem: "Red Hat", namespace: "redhat" },
  rocky: { ecosystem: "Rocky Linux", namespace: "rocky" },
  almalinux: { ecosystem: "AlmaLinux", namespace: "almalinux" },
  centos: { ecosystem: "Red Hat", namespace: "centos" },
  fedora: { ecosystem: "Red Hat", namespace: "fedora" },
};

/**
 * OS packages as the distribution names them: dpkg's packages are Ubuntu's in an Ubuntu image, the rpmdb's are Rocky
 * Linux's or AlmaLinux's in those, and purls gain Trivy's `distro` qualifier.
 */
function labelled(pkg: Package, distribution: Distribution | null): Package {
  if (!distribution) return pkg;
  const { id, versionId } = distribution;
  let type: OsPackageType;
  let ecosystem = pkg.ecosystem;
  let namespace: string;
  let distro: string;
  if ((pkg.ecosystem === "Debian" || pkg.ecosystem === "Ubuntu") && (id === "debian" || id === "ubuntu")) {
    type = "deb";
    ecosystem = id === "ubuntu" ? "Ubuntu" : "Debian";
    namespace = id;
    distro = `${id}-${versionId}`;
  } else if (pkg.ecosystem === "Alpine" && id === "alpine") {
    type = "apk";
    namespace = "alpine";
    distro = versionId;
  } else if ((pkg.ecosystem === "Red Hat" || pkg.ecosystem === "Rocky Linux" || pkg.ecosystem === "AlmaLinux") && RPM_FAMILY[id]) {
    type = "rpm";
    ecosystem = RPM_FAMILY[id]!.ecosystem;
    namespace = RPM_FAMILY[id]!.namespace;
    distro = `${namespace}-${versionId}`;
  } else {
    return pkg; // Not an OS package, or a package database of another family than the image's.
  }
  return { ...pkg, ecosystem, purl: osPurl(type, namespace, pkg.name, pkg.version, { arch: pkg.arch, distro: versionId === "" ? undefined : distro }) };
}

/** The inventory of an image from its layers' inventories, bottom layer first. */
export function squashLayers(layers: LayerInventory[]): Inventory {
  const view = new Map<string, ViewEntry>();
  for (const layer of layers) {
    if (layer.version !== LAYER_INVENTORY_VERSION) throw new StaleLayerInventoryError(layer.version);
    for (const dir of layer.opaqueDirs) deleteMatching(view, (path) => isBelow(path, dir));
    for (const deleted of layer.whiteouts) deleteMatching(view, (path) => path === deleted || isBelow(path, deleted));
    for (const [path, file] of Object.entries(layer.files)) view.set(path, { kind: "file", file });
    for (const [path, target] of Object.entries(layer.symlinks)) view.set(path, { kind: "symlink", target });
  }

  const distribution = distributionOf(view);
  const packages: Package[] = [];
  const seen = new Set<string>();
  for (const path of [...view.keys()].sort()) {
    const entry = view.get(path)!;
    if (entry.kind !== "file") continue;
    for (const pkg of entry.file.packages) {
      // The same package twice in one place is one package (a database listing it twice, a hard link's copy keeps
      // its own path); the same package at two paths is two installations and stays two.
      const key = [pkg.ecosystem, pkg.name, pkg.version, pkg.arch ?? "", pkg.path].join("\u0000");
      if (seen.has(key)) continue;
      seen.add(key);
      packages.push(labelled(pkg, distribution));
    }
  }
  return { distribution, packages };
}
