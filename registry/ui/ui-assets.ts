import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

/** One built file, with the compressed forms the build wrote next to it. */
export interface UiAsset {
  contentType: string;
  body: Buffer;
  gzip?: Buffer;
  br?: Buffer;
}

/** The built UI: index.html and the hashed files under assets/, by their name. */
export interface UiBundle {
  index: UiAsset;
  assets: Map<string, UiAsset>;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".map": "application/json",
};

/**
 * Where `npm run build` puts the UI: <package root>/dist/ui. The package root is found from this file upwards, so
 * the same code finds it from dist/registry/ui (the built server, the image) and from registry/ui (tests from source).
 */
export function defaultUiDir(from = __dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) return path.join(from, "ui-not-found");
    dir = parent;
  }
  return path.join(dir, "dist", "ui");
}

async function optional(file: string): Promise<Buffer | undefined> {
  return readFile(file).catch(() => undefined);
}

async function load(file: string): Promise<UiAsset> {
  return {
    contentType: CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream",
    body: await readFile(file),
    gzip: await optional(`${file}.gz`),
    br: await optional(`${file}.br`),
  };
}

/**
 * Reads the whole built UI into memory once (it is a few hundred KB): requests then name entries of a map, so no
 * request path ever reaches the filesystem. Null when the UI was not built.
 */
export async function loadUiBundle(dir: string): Promise<UiBundle | null> {
  const indexFile = path.join(dir, "index.html");
  if (!existsSync(indexFile)) return null;
  const assets = new Map<string, UiAsset>();
  const assetDir = path.join(dir, "assets");
  const names = existsSync(assetDir) ? await readdir(assetDir) : [];
  for (const name of names.filter((n) => !n.endsWith(".gz") && !n.endsWith(".br"))) assets.set(name, await load(path.join(assetDir, name)));
  return { index: await load(indexFile), assets };
}
