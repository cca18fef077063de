-- The offline vulnerability database: OSV records as imported (one row per record id, the newest `modified` wins),
-- the packages each record affects (what matching looks up), where records came from, and a generation number that
-- moves whenever an import changes anything, so cached inventories know they must be matched again.
CREATE TABLE vulndb_records (
  id          text PRIMARY KEY,
  modified    timestamptz NOT NULL,
  record      jsonb NOT NULL,
  -- The vulndb_sources.name that last wrote this record.
  source      text NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX vulndb_records_source ON vulndb_records (source);

-- One row per (OSV ecosystem, package name) a record's `affected` names. The ecosystem is OSV's exact string
-- ("Debian:12", "npm"); PyPI names are stored PEP 503-normalised. The primary key is the (ecosystem, name) index.
CREATE TABLE vulndb_affected (
  ecosystem text NOT NULL,
  name      text NOT NULL,
  record_id text NOT NULL REFERENCES vulndb_records (id) ON DELETE CASCADE,
  PRIMARY KEY (ecosystem, name, record_id)
);
CREATE INDEX vulndb_affected_record ON vulndb_affected (record_id);

-- What was loaded: an ecosystem's all.zip (sync), an uploaded file, a path given to the CLI.
CREATE TABLE vulndb_sources (
  name            text PRIMARY KEY,
  -- Records whose latest version came from this source.
  records         integer NOT NULL DEFAULT 0,
  newest_modified timestamptz,
  imported_at     timestamptz NOT NULL DEFAULT now(),
  -- The last import's counts.
  last_imported   integer NOT NULL DEFAULT 0,
  last_skipped    integer NOT NULL DEFAULT 0,
  last_invalid    integer NOT NULL DEFAULT 0,
  -- The mirror's validators of the last downloaded zip (sync skips a zip that has not changed).
  etag            text,
  last_modified   text
);

CREATE TABLE vulndb_state (
  singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  generation      bigint NOT NULL DEFAULT 0,
  last_sync_at    timestamptz,
  last_sync_error text
);
INSERT INTO vulndb_state (singleton) VALUES (true);
