import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Prometheus metrics of one Berth process; `/metrics` serves `registry`. */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "berth_http_requests_total",
    help: "HTTP requests by route and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: "berth_http_request_duration_seconds",
    help: "HTTP request latency by route",
    labelNames: ["method", "route"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  readonly bytesReceived = new Counter({
    name: "berth_blob_bytes_received_total",
    help: "Blob bytes received in uploads",
    registers: [this.registry],
  });
  readonly bytesSent = new Counter({
    name: "berth_bytes_sent_total",
    help: "Blob and manifest bytes sent to clients",
    registers: [this.registry],
  });
  readonly uploadsInProgress = new Gauge({
    name: "berth_uploads_in_progress",
    help: "Upload requests currently streaming into storage",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "berth_" });
  }
}
