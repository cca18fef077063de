-- Audit trail (Harbor's audit_log_ext shape). No foreign keys: records outlive the projects and users they name.
CREATE TABLE audit_logs (
  id               bigserial PRIMARY KEY,
  project_id       integer,
  operation        text NOT NULL,
  resource_type    text NOT NULL,
  resource         text NOT NULL,
  description      text NOT NULL DEFAULT '',
  result           boolean NOT NULL DEFAULT true,
  username         text NOT NULL,
  client_ip        text NOT NULL DEFAULT '',
  change_ref       text,
  op_time          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_time ON audit_logs (op_time DESC);
CREATE INDEX audit_logs_project ON audit_logs (project_id, op_time DESC);
