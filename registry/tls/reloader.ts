import { stat } from "node:fs/promises";
import { describeCertificate, readCertificatePair, type CertificateFiles, type CertificatePair } from "./certificate-pair";

export interface ReloaderLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface CertificateReloaderOptions {
  files: CertificateFiles;
  /** The pair being served now. */
  served: CertificatePair;
  intervalMs: number;
  /** Starts serving a renewed, validated pair. */
  apply: (pair: CertificatePair) => void;
  log: ReloaderLog;
}

/** Identity and change times of both files, following links (cert-manager swaps a symlinked directory). */
async function statSignature(files: CertificateFiles): Promise<string> {
  const stats = await Promise.all([stat(files.certFile), stat(files.keyFile)]);
  return stats.map((s) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`).join("|");
}

/**
 * Picks up a renewed certificate without a restart: every `intervalMs` the two files are stat'ed, and when either
 * changed they are read, validated and, when their content differs from what is served, applied. A pair caught
 * half-written or mismatched (the certificate renewed, the key not yet) keeps the served one and is tried again on
 * the next tick; the warning is logged once per state of the files, not on every tick.
 */
export class CertificateReloader {
  private served: CertificatePair;
  /** Files already looked at and either served or identical to what is served. */
  private settled: string | null = null;
  private warned: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly options: CertificateReloaderOptions) {
    this.served = options.served;
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops polling and waits for a check in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One poll; overlapping calls share the one in progress. */
  check(): Promise<void> {
    this.running ??= this.poll().finally(() => (this.running = null));
    return this.running;
  }

  private async poll(): Promise<void> {
    const { files, log } = this.options;
    let signature: string;
    try {
      signature = await statSignature(files);
    } catch (error) {
      this.warnOnce(`missing:${(error as Error).message}`, { err: error }, "TLS certificate files cannot be read; still serving the previous certificate");
      return;
    }
    if (signature === this.settled) return;
    let pair: CertificatePair;
    try {
      pair = await readCertificatePair(files);
    } catch (error) {
      this.warnOnce(signature, { reason: (error as Error).message }, "renewed TLS certificate files are not a valid pair (yet); still serving the previous certificate");
      return;
    }
    this.settled = signature;
    this.warned = null;
    if (pair.digest === this.served.digest) return;
    this.options.apply(pair);
    this.served = pair;
    log.info(describeCertificate(pair.leaf), "serving a renewed TLS certificate");
  }

  private warnOnce(state: string, details: object, message: string): void {
    if (this.warned === state) return;
    this.warned = state;
    this.options.log.warn(details, message);
  }
}
