/** Layers to inventory (issue 16): read each layer once (`inventoryOfLayer`, cacheable per digest), then squash. */
export { inventoryOfLayer, normalizeLayerPath, LayerWalkError, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_ANALYZED_BYTES, type LayerWalkOptions } from "./walk";
export { squashLayers, StaleLayerInventoryError } from "./squash";
export { LAYER_INVENTORY_VERSION, type LayerFile, type LayerInventory } from "./layer-inventory";
export { decompressLayer, compressionOf, LayerTooLargeError, DEFAULT_MAX_DECOMPRESSED_BYTES, type LayerCompression } from "./decompress";
