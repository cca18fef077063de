import packageJson from "../package.json";

/**
 * What `npm run image` builds and tags (package.json's name and version), so the Kubernetes stack's default image is
 * the one this checkout makes; operators push it to their registry and set `berth:image` to that reference.
 */
export const DEFAULT_IMAGE = `${packageJson.name}:${packageJson.version}`;

/** The image's non-root user and group (`useradd --uid 10001` in the Containerfile): runAsUser, fsGroup. */
export const IMAGE_USER_ID = 10001;

/** The image's data volume, which BERTH_DATA_DIR names. */
export const IMAGE_DATA_DIR = "/data";
