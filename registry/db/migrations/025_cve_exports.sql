-- CVE exports (Harbor's scan data export, issue 16): the CSV an export execution wrote, in chunks of about 1 MiB, so
-- any node can stream it on download and no export sits whole in memory. Chunks go with their execution, or once it
-- ended more than BERTH_CVE_EXPORT_TTL_HOURS ago.
CREATE TABLE cve_export_chunks (
  execution_id integer NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  seq          integer NOT NULL,
  data         bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (execution_id, seq)
);
