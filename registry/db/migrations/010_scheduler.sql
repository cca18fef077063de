-- Jobs (GC, retention, replication, scans): their schedules, their runs (Harbor's generic executions, §1.7) and
-- the ticks already claimed, so that with several nodes each scheduled tick runs once.
CREATE TABLE schedules (
  vendor_type text NOT NULL,
  vendor_id   integer NOT NULL,
  cron        text NOT NULL,
  -- What each scheduled run is given (GC's delete_untagged, dry_run…).
  params      jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (vendor_type, vendor_id)
);

CREATE TABLE schedule_ticks (
  key        text PRIMARY KEY,
  claimed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE executions (
  id             serial PRIMARY KEY,
  vendor_type    text NOT NULL,
  vendor_id      integer NOT NULL,
  status         text NOT NULL CHECK (status IN ('Running', 'Success', 'Error', 'Stopped')),
  status_message text NOT NULL DEFAULT '',
  trigger        text NOT NULL CHECK (trigger IN ('MANUAL', 'SCHEDULE', 'EVENT')),
  extra_attrs    jsonb NOT NULL DEFAULT '{}'::jsonb,
  metrics        jsonb NOT NULL DEFAULT '{}'::jsonb,
  start_time     timestamptz NOT NULL DEFAULT now(),
  end_time       timestamptz,
  -- A running execution's node renews this; once it lapses the node is presumed dead and the run failed.
  lease_until    timestamptz,
  stop_requested boolean NOT NULL DEFAULT false
);
CREATE INDEX executions_vendor ON executions (vendor_type, vendor_id, id DESC);
CREATE INDEX executions_running ON executions (lease_until) WHERE status = 'Running';

CREATE TABLE execution_logs (
  id           bigserial PRIMARY KEY,
  execution_id integer NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  logged_at    timestamptz NOT NULL DEFAULT now(),
  line         text NOT NULL
);
CREATE INDEX execution_logs_execution ON execution_logs (execution_id, id);
