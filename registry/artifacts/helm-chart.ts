import { posix } from "node:path";
import type { Readable } from "node:stream";
import * as tarStream from "tar-stream";
import type * as Yaml from "yaml";
import { decompressLayer } from "../scanning/layers/decompress";
import { normalizeLayerPath, readEntry } from "../scanning/layers/walk";
import { loadOnFirstUse } from "../lazy-module";

// Loaded at the first chart whose dependencies are asked for, not at every start.
const yaml = loadOnFirstUse(() => require("yaml") as typeof Yaml);

/** The config media type of a Helm chart stored as an OCI artifact. */
export const HELM_CHART_CONFIG = "application/vnd.cncf.helm.config.v1+json";
/** The layer of a Helm chart stored as an OCI artifact: the chart directory as a gzipped tar. */
export const HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

export interface ChartLimits {
  /** Largest file read from a chart (BERTH_CHART_FILE_MAX_BYTES). */
  fileMaxBytes: number;
  /** Tar bytes one chart may decompress to (BERTH_CHART_MAX_BYTES). */
  maxBytes: number;
}

/** The chart files Harbor's additions show: values.yaml, the README and the dependencies' source. */
export interface ChartFiles {
  values: string | null;
  readme: string | null;
  chartYaml: string | null;
  /** requirements.yaml, where charts of apiVersion v1 list their dependencies. */
  requirements: string | null;
}

export class ChartFileTooLargeError extends Error {}

const WANTED: Record<string, keyof ChartFiles> = { "values.yaml": "values", "readme.md": "readme", "chart.yaml": "chartYaml", "requirements.yaml": "requirements" };

/**
 * Reads the files of a chart's top directory (`<chart>/values.yaml`, not a subchart's) from its layer in one
 * streaming pass: nothing else is kept, a file over `fileMaxBytes` is refused and the whole tar is capped at
 * `maxBytes`, so a small blob that inflates without end cannot exhaust memory.
 */
export async function readChartFiles(layer: Readable, limits: ChartLimits): Promise<ChartFiles> {
  const files: ChartFiles = { values: null, readme: null, chartYaml: null, requirements: null };
  const { tar } = await decompressLayer(layer, limits.maxBytes);
  const extract = tarStream.extract();
  tar.on("error", (error: Error) => extract.destroy(error));
  tar.pipe(extract);
  for await (const entry of extract) {
    const path = normalizeLayerPath(entry.header.name);
    const parts = path?.split("/") ?? [];
    const key = parts.length === 2 && (entry.header.type ?? "file") === "file" ? WANTED[parts[1].toLowerCase()] : undefined;
    if (!key) {
      entry.resume();
      continue;
    }
    const size = entry.header.size ?? 0;
    if (size > limits.fileMaxBytes) {
      entry.resume();
      throw new ChartFileTooLargeError(`${posix.basename(path!)} of this chart is ${size} bytes, more than the ${limits.fileMaxBytes} bytes read from a chart`);
    }
    files[key] = (await readEntry(entry, size)).toString("utf8");
  }
  return files;
}

export interface ChartDependency {
  name: string;
  version: string;
  repository: string;
  [field: string]: unknown;
}

/** The chart's dependencies as Helm's Chart.yaml (v2) or requirements.yaml (v1) lists them; [] when none. */
export function chartDependencies(files: ChartFiles): ChartDependency[] {
  for (const source of [files.chartYaml, files.requirements]) {
    if (source === null) continue;
    const document = yaml().parse(source, { maxAliasCount: 100 }) as { dependencies?: unknown } | null;
    if (Array.isArray(document?.dependencies) && document.dependencies.length > 0) {
      return document.dependencies
        .filter((dependency): dependency is Record<string, unknown> => typeof dependency === "object" && dependency !== null)
        .map((dependency) => ({ ...dependency, name: String(dependency.name ?? ""), version: String(dependency.version ?? ""), repository: String(dependency.repository ?? "") }));
    }
  }
  return [];
}
