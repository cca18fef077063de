import { Readable } from "node:stream";
import { EmbeddedScanner, type VulnerabilityDatabase } from "../../../../registry/scanning/embedded-scanner";
import type { ScanStore } from "../../../../registry/scanning/scan-store";
import type { BlobStore } from "../../../../registry/storage/blob-store";
import { buildLayer } from "../../../support/oci-image";

/** A layer inventory cache in memory, as the scan store keeps it. */
function memoryCache() {
  const saved = new Map<string, unknown>();
  const store = {
    layerInventory: async (digest: string) => saved.get(digest) ?? null,
    saveLayerInventory: async (digest: string, _version: number, inventory: unknown) => void saved.set(digest, inventory),
  } as unknown as ScanStore;
  return { saved, store };
}

const noBlobs = { read: async () => null } as unknown as BlobStore;
const noRecords: VulnerabilityDatabase = {
  generation: async () => 1,
  prefetch: async () => ({ recordsFor: async () => [] }),
  changedSince: async () => null,
  pruneChanges: async () => undefined,
};

describe("layers read from another registry (the adapter API)", () => {
  it("inventories a streamed layer and caches it under its digest", async () => {
    const layer = await buildLayer({ "etc/os-release": 'ID=debian\nVERSION_ID="12"\n', "var/lib/dpkg/status": "Package: a\nStatus: install ok installed\nVersion: 1\n" });
    const { saved, store } = memoryCache();
    const scanner = new EmbeddedScanner({ name: "Berth", vendor: "Berth", version: "1" }, noBlobs, store, noRecords);
    const found = await scanner.inventory([{ digest: layer.digest, mediaType: "", size: layer.size }], async () => Readable.from([layer.bytes]));
    expect(found.inventory.packages.map((p) => p.name)).toEqual(["a"]);
    expect(saved.has(layer.digest)).toBe(true);
  });

  it("refuses content that is not what its digest names, and caches nothing for it", async () => {
    const layer = await buildLayer({ "var/lib/dpkg/status": "Package: a\nStatus: install ok installed\nVersion: 1\n" });
    const other = await buildLayer({ "var/lib/dpkg/status": "Package: evil\nStatus: install ok installed\nVersion: 1\n" });
    const { saved, store } = memoryCache();
    const scanner = new EmbeddedScanner({ name: "Berth", vendor: "Berth", version: "1" }, noBlobs, store, noRecords);
    await expect(scanner.inventory([{ digest: layer.digest, mediaType: "", size: layer.size }], async () => Readable.from([other.bytes]))).rejects.toThrow(
      /does not match its digest/,
    );
    expect(saved.size).toBe(0);
  });
});
