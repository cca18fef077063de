import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { hostname } from "node:os";
import { connect, isIP, type Socket } from "node:net";
import type { OutboundGuard, ResolvedAddress } from "../outbound/address-guard";

export interface ForwardEndpoint {
  protocol: "tcp" | "udp";
  host: string;
  port: number;
}

/** One audit record as it is forwarded (the fields of Harbor's AuditLogExt, plus where it came from). */
export interface ForwardedRecord {
  username: string;
  operation: string;
  resource_type: string;
  resource: string;
  operation_description: string;
  operation_result: boolean;
  client_ip: string;
  project_id: number | null;
  op_time: string;
}

/**
 * Harbor's audit_log_forward_endpoint is `host:port` (syslog over TCP); `tcp://host:port` and `udp://host:port` say
 * the transport. Hosts are names or addresses (IPv6 in brackets).
 */
export function parseForwardEndpoint(text: string): ForwardEndpoint | { error: string } {
  const match = /^(?:(tcp|udp):\/\/)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : 0;
  if (!match || port < 1 || port > 65535) return { error: `must be "host:port", "tcp://host:port" or "udp://host:port" (port 1-65535), got ${JSON.stringify(text.slice(0, 200))}` };
  const host = match[2].replace(/^\[|\]$/g, "");
  if (match[2].startsWith("[") && isIP(host) !== 6) return { error: `${match[2]} is not an IPv6 address` };
  return { protocol: (match[1] as "tcp" | "udp" | undefined) ?? "tcp", host, port };
}

// Facility 13 (log audit), severity 6 (informational): RFC 5424's PRI.
const PRI = 13 * 8 + 6;
const HOST = hostname().replace(/[^\x21-\x7e]/g, "").slice(0, 255) || "-";

/** An RFC 5424 line whose message is the record as JSON. */
export function syslogLine(record: ForwardedRecord): string {
  return `<${PRI}>1 ${record.op_time} ${HOST} berth - audit - ${JSON.stringify(record)}`;
}

/**
 * Sends audit records to the syslog endpoint the setting names, best effort: a record is written to the database
 * first, and a forwarding failure is reported (once per endpoint until it works again), never fatal. The endpoint is
 * an outbound destination like a webhook's: the OutboundGuard checks it (BERTH_OUTBOUND_DENY/ALLOW) before every
 * connection, and the connection goes to the address it checked.
 */
export class SyslogForwarder {
  private tcp: { key: string; socket: Socket } | null = null;
  private udp: { family: 4 | 6; socket: UdpSocket } | null = null;
  private failing: string | null = null;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly endpoint: () => Promise<string>,
    private readonly guard: OutboundGuard,
    private readonly onError: (error: unknown, endpoint: string) => void,
  ) {}

  /** Queues the records behind those already being sent, so lines leave in order. */
  forward(records: ForwardedRecord[]): Promise<void> {
    this.sending = this.sending.then(() => this.send(records)).catch(() => undefined);
    return this.sending;
  }

  close(): void {
    this.tcp?.socket.destroy();
    this.tcp = null;
    this.udp?.socket.close();
    this.udp = null;
  }

  private async send(records: ForwardedRecord[]): Promise<void> {
    const text = await this.endpoint();
    if (text === "" || records.length === 0) return;
    const endpoint = parseForwardEndpoint(text);
    if ("error" in endpoint) return;
    try {
      const [address] = await this.guard.check(new URL(`http://${endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`));
      if (endpoint.protocol === "udp") await this.sendUdp(address, endpoint.port, records);
      else await this.sendTcp(`${text}@${address.address}`, address, endpoint.port, records);
      this.failing = null;
    } catch (error) {
      if (this.failing !== text) this.onError(error, text);
      this.failing = text;
      this.tcp?.socket.destroy();
      this.tcp = null;
    }
  }

  private async sendUdp(address: ResolvedAddress, port: number, records: ForwardedRecord[]): Promise<void> {
    if (this.udp?.family !== address.family) {
      this.udp?.socket.close();
      this.udp = { family: address.family, socket: createSocket(address.family === 6 ? "udp6" : "udp4") };
      this.udp.socket.unref();
    }
    const socket = this.udp.socket;
    for (const record of records) {
      await new Promise<void>((resolve, reject) => socket.send(syslogLine(record), port, address.address, (error) => (error ? reject(error) : resolve())));
    }
  }

  // RFC 6587 octet counting: each message is preceded by its length, so a line may contain anything.
  private async sendTcp(key: string, address: ResolvedAddress, port: number, records: ForwardedRecord[]): Promise<void> {
    if (this.tcp?.key !== key || this.tcp.socket.destroyed) {
      this.tcp?.socket.destroy();
      const socket = connect({ host: address.address, port });
      socket.unref();
      socket.on("error", () => socket.destroy());
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
      this.tcp = { key, socket };
    }
    const payload = records.map((record) => {
      const line = Buffer.from(syslogLine(record));
      return `${line.length} ${line.toString()}`;
    });
    const socket = this.tcp.socket;
    await new Promise<void>((resolve, reject) => socket.write(payload.join(""), (error) => (error ? reject(error) : resolve())));
  }
}
