import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { filesUnder, kindOfFile } from "./reader";
import type { ImportResult, VulnDbStatus } from "./store";

export const VULNDB_USAGE = `usage: berth vulndb <command>

commands:
  import PATH...  send OSV records to the running registry: all.zip files, JSON files (one record or an array),
                  directories of them, recursively (osv-scanner's <dir>/<ecosystem>/all.zip layout too)
  status          what the database holds: sources, record counts, ages, the last sync
  sync            have the registry sync from its mirror (BERTH_VULNDB_URL) now

The registry: BERTH_REGISTRY_URL, BERTH_REGISTRY_USER, BERTH_REGISTRY_PASSWORD (a system admin). The CLI never
opens the database itself.
Exit codes: 0 done; 1 an input was refused or held invalid records; 2 usage or settings; 3 the registry refused
the credentials; 4 the registry could not be reached or failed.`;

const EXIT = { ok: 0, input: 1, usage: 2, credentials: 3, registry: 4 } as const;

/** JSON files of a directory go in arrays of about this size (one request each), not one request per file. */
const JSON_BATCH_BYTES = 8 * 1024 * 1024;

interface Output {
  write(text: string): unknown;
}

/** A failure that ends the command with `exitCode`. */
class CliFailure extends Error {
  constructor(readonly exitCode: number, message: string) {
    super(message);
  }
}

interface Registry {
  url: string;
  authorization: string;
}

function registryFrom(env: Record<string, string | undefined>): Registry {
  const missing = ["BERTH_REGISTRY_URL", "BERTH_REGISTRY_USER", "BERTH_REGISTRY_PASSWORD"].filter((name) => !env[name]);
  if (missing.length > 0) throw new CliFailure(EXIT.usage, `set ${missing.join(", ")} (the registry's URL and a system admin's credentials)`);
  return {
    url: env.BERTH_REGISTRY_URL!.replace(/\/+$/, ""),
    authorization: `Basic ${Buffer.from(`${env.BERTH_REGISTRY_USER}:${env.BERTH_REGISTRY_PASSWORD}`).toString("base64")}`,
  };
}

function harborMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { errors?: { message?: string }[] };
    if (body.errors?.[0]?.message) return body.errors[0].message;
  } catch {
    // not Harbor's error body: show the text
  }
  return text.slice(0, 300);
}

/** One API call; credentials and server failures end the command, a refused input is returned as its message. */
async function call(registry: Registry, method: string, apiPath: string, body?: { type: string; data: string | NodeJS.ReadableStream }): Promise<{ status: number; json: unknown; refusal?: string }> {
  let response: Response;
  try {
    response = await fetch(`${registry.url}/api/v2.0${apiPath}`, {
      method,
      headers: { Authorization: registry.authorization, Accept: "application/json", ...(body ? { "Content-Type": body.type } : {}) },
      body: body?.data as RequestInit["body"],
      ...(body && typeof body.data !== "string" ? { duplex: "half" } : {}),
    } as RequestInit);
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new CliFailure(EXIT.registry, `cannot reach the registry at ${registry.url}: ${cause}`);
  }
  const text = await response.text();
  if (response.status === 401) throw new CliFailure(EXIT.credentials, `the registry refused the credentials (BERTH_REGISTRY_USER, BERTH_REGISTRY_PASSWORD): ${harborMessage(text)}`);
  if (response.status === 403) throw new CliFailure(EXIT.credentials, `BERTH_REGISTRY_USER may not do this (a system admin may): ${harborMessage(text)}`);
  if (response.status >= 500) throw new CliFailure(EXIT.registry, `the registry failed (${response.status}): ${harborMessage(text)}`);
  if (response.status >= 400) return { status: response.status, json: null, refusal: `${response.status}: ${harborMessage(text)}` };
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

/** The source a file's records are filed under: an osv.dev all.zip by its ecosystem (the folder it is in), others by path. */
export function sourceNameOf(file: string): string {
  const absolute = path.resolve(file);
  return path.basename(absolute).toLowerCase() === "all.zip" ? path.basename(path.dirname(absolute)) : absolute;
}

function describeResult(what: string, result: ImportResult): string {
  const lines = [`${what} → "${result.source}": imported ${result.imported}, skipped ${result.skipped} (not newer), invalid ${result.invalid}`];
  for (const error of result.errors) lines.push(`  invalid: ${error.where}: ${error.reason}`);
  if (result.invalid > result.errors.length) lines.push(`  … and ${result.invalid - result.errors.length} more`);
  return `${lines.join("\n")}\n`;
}

class Importer {
  failed = false;

  constructor(
    private readonly registry: Registry,
    private readonly out: Output,
    private readonly err: Output,
  ) {}

  private async send(what: string, source: string, type: string, data: string | NodeJS.ReadableStream): Promise<void> {
    const answer = await call(this.registry, "POST", `/vulndb/import?source=${encodeURIComponent(source)}`, { type, data });
    if (answer.refusal) {
      this.failed = true;
      this.err.write(`${what}: refused: ${answer.refusal}\n`);
      return;
    }
    const result = answer.json as ImportResult;
    if (result.invalid > 0) this.failed = true;
    this.out.write(describeResult(what, result));
  }

  async file(file: string, source = sourceNameOf(file)): Promise<void> {
    const kind = kindOfFile(file);
    await this.send(file, source, kind === "zip" ? "application/zip" : "application/json", createReadStream(file));
  }

  /** Zips one request each; JSON files read here and sent in arrays of bounded size (a file that is not JSON is reported). */
  async directory(dir: string): Promise<void> {
    const source = path.resolve(dir);
    let batch: string[] = [];
    let bytes = 0;
    let files = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await this.send(`${dir} (${files} JSON file${files === 1 ? "" : "s"})`, source, "application/json", `[${batch.join(",")}]`);
      batch = [];
      bytes = 0;
      files = 0;
    };
    for await (const file of filesUnder(dir)) {
      if (kindOfFile(file) === "zip") {
        await this.file(file);
        continue;
      }
      if ((await stat(file)).size > JSON_BATCH_BYTES) {
        await this.file(file, source);
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(file, "utf8"));
      } catch (error) {
        this.failed = true;
        this.err.write(`${file}: not sent: not valid JSON: ${(error as Error).message}\n`);
        continue;
      }
      for (const record of Array.isArray(parsed) ? parsed : [parsed]) {
        const text = JSON.stringify(record);
        if (bytes + text.length > JSON_BATCH_BYTES) await flush();
        batch.push(text);
        bytes += text.length + 1;
      }
      files++;
    }
    await flush();
  }
}

function age(seconds: number): string {
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

export function formatStatus(status: VulnDbStatus & { sync?: { schedule: string; ecosystems: string[] } | null }): string {
  const lines = [`generation ${status.generation}, ${status.total_records} record${status.total_records === 1 ? "" : "s"}`];
  if (status.last_sync) lines.push(`last sync: ${status.last_sync.at}${status.last_sync.error ? `, with failures: ${status.last_sync.error}` : ", ok"}`);
  else if (status.sync) lines.push("last sync: none yet");
  lines.push(status.sync ? `mirror sync: ${status.sync.ecosystems.join(", ")} on "${status.sync.schedule}"` : "mirror sync: off (BERTH_VULNDB_URL is not set on the registry)");
  if (status.sources.length === 0) {
    lines.push("", "The database is empty: import OSV data with `berth vulndb import PATH`, or set BERTH_VULNDB_URL.");
    return `${lines.join("\n")}\n`;
  }
  const rows = [["SOURCE", "RECORDS", "NEWEST MODIFIED", "IMPORTED", "LAST IMPORT"]];
  for (const s of status.sources) {
    const last = s.last_import;
    rows.push([s.name, String(s.records), s.newest_modified ?? "-", age(s.age_seconds), `+${last.imported} =${last.skipped} !${last.invalid}`]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  lines.push("", ...rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ")));
  lines.push("", "LAST IMPORT: +written =skipped (not newer) !invalid");
  return `${lines.join("\n")}\n`;
}

/** `berth vulndb …`; returns the exit code. */
export async function runVulnDb(argv: string[], env: Record<string, string | undefined> = process.env, out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    (command ? out : err).write(`${VULNDB_USAGE}\n`);
    return command ? EXIT.ok : EXIT.usage;
  }
  try {
    if (command === "import") {
      if (rest.length === 0) throw new CliFailure(EXIT.usage, "import needs at least one PATH (a zip, a JSON file or a directory)");
      const registry = registryFrom(env);
      const importer = new Importer(registry, out, err);
      for (const input of rest) {
        let isDirectory: boolean;
        try {
          isDirectory = (await stat(input)).isDirectory();
        } catch (error) {
          importer.failed = true;
          err.write(`${input}: cannot read: ${(error as Error).message}\n`);
          continue;
        }
        if (isDirectory) await importer.directory(input);
        else await importer.file(input);
      }
      return importer.failed ? EXIT.input : EXIT.ok;
    }
    if (command === "status" || command === "sync") {
      if (rest.length > 0) throw new CliFailure(EXIT.usage, `${command} takes no arguments`);
      const registry = registryFrom(env);
      if (command === "status") {
        out.write(formatStatus((await call(registry, "GET", "/vulndb")).json as VulnDbStatus));
        return EXIT.ok;
      }
      const answer = await call(registry, "POST", "/vulndb/sync");
      if (answer.refusal) throw new CliFailure(EXIT.input, `sync refused: ${answer.refusal}`);
      out.write(`sync started (execution ${(answer.json as { execution_id: number }).execution_id}); \`berth vulndb status\` shows its outcome\n`);
      return EXIT.ok;
    }
    throw new CliFailure(EXIT.usage, `unknown command "${command}"\n${VULNDB_USAGE}`);
  } catch (error) {
    if (!(error instanceof CliFailure)) throw error;
    err.write(`berth vulndb: ${error.message}\n`);
    return error.exitCode;
  }
}
