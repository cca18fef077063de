-- Run-time settings (issue 18): Harbor's /configurations values an admin changed through the API, one row per key.
-- A key without a row has its default; a key fixed by a BERTH_* variable is never read from here.
CREATE TABLE settings (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Internal markers share the table under keys that are not settings (audit_purge_default_schedule: the
-- BERTH_AUDIT_RETENTION_DAYS value last turned into the purge schedule); the settings reader ignores them.
