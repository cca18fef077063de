-- Scanner registrations and the adapter API (issue 16).

-- External scanners registered by URL (Harbor's ScannerRegistration). The embedded scanner is not a row: it is
-- always there, and the default while no row is.
CREATE TABLE scanner_registrations (
  uuid              text PRIMARY KEY,
  name              text NOT NULL UNIQUE,
  description       text NOT NULL DEFAULT '',
  url               text NOT NULL UNIQUE,
  auth              text NOT NULL DEFAULT '',
  -- Sealed with the secret box; never returned.
  access_credential text NOT NULL DEFAULT '',
  skip_cert_verify  boolean NOT NULL DEFAULT false,
  use_internal_addr boolean NOT NULL DEFAULT false,
  disabled          boolean NOT NULL DEFAULT false,
  is_default        boolean NOT NULL DEFAULT false,
  -- The adapter's metadata as last fetched (names reports and overviews).
  adapter           text NOT NULL DEFAULT '',
  vendor            text NOT NULL DEFAULT '',
  version           text NOT NULL DEFAULT '',
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX scanner_registrations_one_default ON scanner_registrations (is_default) WHERE is_default;

-- The scanner a project chose (PUT /projects/{p}/scanner); without a row, the default scanner.
CREATE TABLE project_scanners (
  project_id integer PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
  scanner    text NOT NULL
);

-- Scans asked of this registry's own adapter API (a Harbor using Berth as its scanner): the artifact lives in the
-- caller's registry, so these are not scan_reports rows.
CREATE TABLE adapter_scans (
  id          uuid PRIMARY KEY,
  repository  text NOT NULL,
  digest      text NOT NULL,
  status      text NOT NULL CHECK (status IN ('Running', 'Success', 'Error')),
  message     text NOT NULL DEFAULT '',
  report      jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX adapter_scans_age ON adapter_scans (created_at);
