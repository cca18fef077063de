import { AuthModeSwitchRefused } from "./auth/auth-mode";
import { ConfigError, type Config } from "./config";
import { DataDirLockedError } from "./db/data-dir-lock";
import { MetricsListenError } from "./ops/metrics-listener";
import { SecretKeyMismatchError } from "./secrets/secret-box";
import { BlobStoreUnavailableError } from "./storage/open";

/** What `berth` prints (one line, no stack) and exits with when it cannot start. */
export interface StartupFailure {
  line: string;
  /** 2: the setup must change (configuration, a busy port or data dir); 1: anything else. */
  exitCode: 1 | 2;
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EACCES: "permission denied (ports below 1024 need privileges)",
  EADDRNOTAVAIL: "address not available on this host",
};

function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Turns an error thrown while starting (or by `doctor`) into the line that tells the operator what to change. */
export function describeStartupFailure(error: unknown, config?: Pick<Config, "host" | "port">): StartupFailure {
  if (error instanceof ConfigError) return { line: `berth: invalid configuration: ${error.message}`, exitCode: 2 };
  if (error instanceof DataDirLockedError) return { line: `berth: ${error.message}`, exitCode: 2 };
  if (error instanceof SecretKeyMismatchError) return { line: `berth: cannot start: ${error.message}`, exitCode: 2 };
  if (error instanceof AuthModeSwitchRefused) return { line: `berth: cannot start: ${error.message}`, exitCode: 2 };
  if (error instanceof BlobStoreUnavailableError) return { line: `berth: cannot start: ${error.message}`, exitCode: 2 };
  if (error instanceof MetricsListenError) {
    const reason = (error.code && LISTEN_ERRORS[error.code]) || (error.cause as Error).message;
    return { line: `berth: cannot listen on ${formatAddress(error.host, error.port)} (BERTH_METRICS_ADDR; off serves no metrics): ${reason}`, exitCode: 2 };
  }
  const { code, syscall } = error as NodeJS.ErrnoException;
  if (config && syscall === "listen" && code && code in LISTEN_ERRORS) {
    return { line: `berth: cannot listen on ${formatAddress(config.host, config.port)} (BERTH_ADDR): ${LISTEN_ERRORS[code]}`, exitCode: 2 };
  }
  const reason = error instanceof Error ? error.message || error.name : String(error);
  return { line: `berth: cannot start: ${reason.split("\n")[0]}`, exitCode: 1 };
}
