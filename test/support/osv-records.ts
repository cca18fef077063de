import type { OsvRecord } from "../../registry/scanning/osv/types";
import { buildZip } from "./zip-writer";

/** A synthetic OSV record (`x_` ids are OSV's prefix for local records) affecting one package from `introduced 0` to `fixed`. */
export function osvRecord(id: string, ecosystem: string, name: string, fixed: string, modified = "2026-01-01T00:00:00Z", extra: Partial<OsvRecord> = {}): OsvRecord {
  return {
    schema_version: "1.6.0",
    id,
    modified,
    summary: `${name} is vulnerable (${id})`,
    aliases: [`CVE-2026-${id.replace(/\D/g, "").padStart(4, "0").slice(-6)}`],
    affected: [{ package: { ecosystem, name }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed }] }] }],
    ...extra,
  };
}

/** An OSV all.zip as osv.dev lays it out: one `<id>.json` entry per record, deflated. */
export function osvZip(records: unknown[]): Buffer {
  return buildZip(records.map((record, i) => ({ name: `${(record as { id?: string }).id ?? `entry-${i}`}.json`, data: JSON.stringify(record), deflate: true })));
}

/** `count` Debian records over `packages` packages in two releases, as a large all.zip would hold. */
export function manyDebianRecords(count: number, packages = Math.ceil(count / 20)): OsvRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const record = osvRecord(`DEBIAN-CVE-2026-${String(i).padStart(6, "0")}`, "Debian:12", `pkg-${i % packages}`, `1.${i}-1`);
    record.affected!.push({ package: { ecosystem: "Debian:11", name: `pkg-${i % packages}` }, ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }] }] });
    record.details = "x".repeat(400);
    record.references = [{ type: "ADVISORY", url: `https://security-tracker.debian.org/tracker/CVE-2026-${i}` }];
    return record;
  });
}
