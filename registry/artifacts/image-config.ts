import type { StoredManifest } from "../distribution/metadata";
import type { BlobStore } from "../storage/blob-store";
import { readAll } from "../storage/read-all";
import { IMAGE_TYPES } from "../scanning/scan-target";

/** An image config is read whole to be parsed; larger ones (far beyond any real image's) are not read. */
export const MAX_IMAGE_CONFIG_BYTES = 4 * 1024 * 1024;

const IMAGE_CONFIGS = new Set<string>(IMAGE_TYPES.configs);

/** One step of an image's build, as its config records it (OCI image-spec `history`). */
export interface BuildStep {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

interface ImageConfig {
  created?: string;
  author?: string;
  architecture?: string;
  variant?: string;
  os?: string;
  "os.version"?: string;
  config?: unknown;
  history?: unknown;
}

export class NotAnImageError extends Error {}

/**
 * The image config of a stored manifest, for Harbor's artifact `extra_attrs` and its build_history addition: read
 * from the blob store (capped), parsed. NotAnImageError for an index or an artifact whose config is no image config;
 * null when the config cannot be read (missing from the store, too large, not JSON).
 */
export class ImageConfigs {
  constructor(private readonly store: BlobStore) {}

  async of(manifest: StoredManifest): Promise<ImageConfig | null> {
    let descriptor: { mediaType?: unknown; digest?: unknown; size?: unknown } | undefined;
    try {
      descriptor = (JSON.parse(manifest.content.toString("utf8")) as { config?: typeof descriptor }).config;
    } catch {
      throw new NotAnImageError(`${manifest.digest} is not a JSON manifest`);
    }
    if (!descriptor || typeof descriptor.mediaType !== "string" || !IMAGE_CONFIGS.has(descriptor.mediaType) || typeof descriptor.digest !== "string") {
      throw new NotAnImageError(`${manifest.digest} is not an image`);
    }
    if (typeof descriptor.size === "number" && descriptor.size > MAX_IMAGE_CONFIG_BYTES) return null;
    const stream = await this.store.read(descriptor.digest);
    if (!stream) return null;
    const bytes = await readAll(stream, MAX_IMAGE_CONFIG_BYTES);
    if (!bytes) return null;
    try {
      const parsed = JSON.parse(bytes.toString("utf8")) as unknown;
      return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as ImageConfig) : null;
    } catch {
      return null;
    }
  }

  /** Harbor's `extra_attrs` of an image: platform, creation, author and the container config. */
  static extraAttrs(config: ImageConfig): Record<string, unknown> {
    const attrs: Record<string, unknown> = {
      architecture: config.architecture ?? "",
      os: config.os ?? "",
      created: config.created ?? null,
      author: config.author ?? "",
      config: config.config ?? {},
    };
    if (config.variant) attrs.variant = config.variant;
    if (config["os.version"]) attrs["os.version"] = config["os.version"];
    return attrs;
  }

  /** The config's `history`, oldest step first, with only the image-spec's fields. */
  static buildHistory(config: ImageConfig): BuildStep[] {
    if (!Array.isArray(config.history)) return [];
    return config.history.flatMap((entry): BuildStep[] => {
      if (entry === null || typeof entry !== "object") return [];
      const step = entry as Record<string, unknown>;
      const out: BuildStep = {};
      for (const field of ["created", "created_by", "author", "comment"] as const) if (typeof step[field] === "string") out[field] = step[field] as string;
      if (typeof step.empty_layer === "boolean") out.empty_layer = step.empty_layer;
      return [out];
    });
  }
}
