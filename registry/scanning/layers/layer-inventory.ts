/**
 * What one layer contributes to an image's inventory (issue 16). Plain JSON: it is cached per layer digest, so a
 * base layer shared by many images is read once. Only files some analyzer wanted are listed, and only the symlinks
 * and whiteouts squashing needs.
 */
import type { Distribution, Package } from "../inventory";

/**
 * Bump whenever an analyzer or the walk changes what it records: cached layer inventories of another version are
 * read again.
 */
export const LAYER_INVENTORY_VERSION = 1;

export interface LayerFile {
  packages: Package[];
  distribution?: Distribution;
  /**
   * Why the file was not analysed (over its analyzer's size limit, the layer's analysis budget spent, the analyzer
   * failed). It is still listed: it replaces the same path in lower layers.
   */
  skipped?: string;
}

export interface LayerInventory {
  version: number;
  /** Analysed files by path (no leading slash). */
  files: Record<string, LayerFile>;
  /** Paths deleted from lower layers (`.wh.<name>`), with everything below them. */
  whiteouts: string[];
  /** Directories whose lower-layer contents are hidden (`.wh..wh..opq`); "" is the root. */
  opaqueDirs: string[];
  /** Symlinks at paths an analyzer reads (etc/os-release → ../usr/lib/os-release), by path, to their target. */
  symlinks: Record<string, string>;
}
