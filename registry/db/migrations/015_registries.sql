-- Remote registry endpoints (HARBOR-MODEL §5.1) for replication and proxy caches. The secret must be usable to
-- log in upstream, so it is stored as given; the API never returns it.
CREATE TABLE registries (
  id              serial PRIMARY KEY,
  name            text NOT NULL UNIQUE,
  description     text NOT NULL DEFAULT '',
  type            text NOT NULL,
  url             text NOT NULL,
  credential_type text NOT NULL DEFAULT 'basic',
  access_key      text NOT NULL DEFAULT '',
  access_secret   text NOT NULL DEFAULT '',
  insecure        boolean NOT NULL DEFAULT false,
  status          text NOT NULL DEFAULT 'unknown' CHECK (status IN ('unknown', 'healthy', 'unhealthy')),
  status_message  text NOT NULL DEFAULT '',
  checked_at      timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
