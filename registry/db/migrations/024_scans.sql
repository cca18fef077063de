-- Vulnerability scanning (issue 16).

-- What one layer holds, found once per layer digest ever (a base layer shared by 100 images is read once).
-- `version` is the layer walk's format and analyzer set: rows of another version are read again.
CREATE TABLE layer_inventories (
  digest     text PRIMARY KEY,
  version    integer NOT NULL,
  inventory  jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One scan of one artifact (by manifest digest, whatever repositories hold it) by one scanner: its place in the
-- queue, its state, and its result. Pending rows are the queue, claimed by any node's workers.
CREATE TABLE scan_reports (
  id             text PRIMARY KEY,
  digest         text NOT NULL,
  -- Where the scan was last asked for: the layers are read through this repository.
  repository     text NOT NULL,
  scanner        text NOT NULL,
  scan_type      text NOT NULL DEFAULT 'vulnerability' CHECK (scan_type IN ('vulnerability', 'sbom')),
  status         text NOT NULL CHECK (status IN ('Pending', 'Running', 'Success', 'Error', 'Stopped')),
  status_message text NOT NULL DEFAULT '',
  trigger        text NOT NULL DEFAULT 'MANUAL',
  queued_at      timestamptz NOT NULL DEFAULT now(),
  start_time     timestamptz,
  end_time       timestamptz,
  claimed_by     text,
  claimed_at     timestamptz,
  -- The squashed image inventory (with its OSV OS ecosystem): a changed database re-matches it without layers.
  inventory      jsonb,
  -- The vulnerability database generation the report was matched against.
  generation     bigint,
  report         jsonb,
  -- Harbor's counts of the report, so listings with scan_overview do not load whole reports.
  summary        jsonb,
  UNIQUE (digest, scanner, scan_type)
);
CREATE INDEX scan_reports_queue ON scan_reports (queued_at) WHERE status = 'Pending';
CREATE INDEX scan_reports_stale ON scan_reports (generation) WHERE status = 'Success';
-- Claims of nodes that died are found by age.
CREATE INDEX scan_reports_claims ON scan_reports (claimed_at) WHERE status = 'Running';

-- CVE allowlists: the system's (project_id NULL) and one per project.
CREATE TABLE cve_allowlists (
  id         serial PRIMARY KEY,
  project_id integer REFERENCES projects (id) ON DELETE CASCADE,
  items      jsonb NOT NULL DEFAULT '[]'::jsonb,
  expires_at bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX cve_allowlists_scope ON cve_allowlists (coalesce(project_id, 0));
