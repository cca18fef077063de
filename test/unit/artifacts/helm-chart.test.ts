import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import * as tarStream from "tar-stream";
import { chartDependencies, readChartFiles } from "../../../registry/artifacts/helm-chart";
import { LayerTooLargeError } from "../../../registry/scanning/layers/decompress";

async function tarOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, size: Buffer.byteLength(content) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const LIMITS = { fileMaxBytes: 1024, maxBytes: 64 * 1024 };

describe("readChartFiles", () => {
  it("takes a v1 chart's dependencies from requirements.yaml, and only top-directory files", async () => {
    const layer = gzipSync(
      await tarOf({
        "old/Chart.yaml": "apiVersion: v1\nname: old\nversion: 1.0.0\n",
        "old/requirements.yaml": "dependencies:\n  - name: mysql\n    version: 1.6.9\n    repository: https://charts.example\n",
        "old/charts/mysql/values.yaml": "not: mine\n",
        "../escape/values.yaml": "no: thanks\n",
      }),
    );
    const files = await readChartFiles(Readable.from([layer]), LIMITS);
    expect(files.values).toBeNull();
    expect(chartDependencies(files)).toEqual([{ name: "mysql", version: "1.6.9", repository: "https://charts.example" }]);
  });

  it("stops a chart that inflates past its limit however small its blob", async () => {
    const bomb = gzipSync(await tarOf({ "bomb/templates/zeros.yaml": Buffer.alloc(1024 * 1024) }));
    expect(bomb.length).toBeLessThan(4096);
    await expect(readChartFiles(Readable.from([bomb]), LIMITS)).rejects.toBeInstanceOf(LayerTooLargeError);
  });
});
