-- One controller per registry: the policy source that manages this registry's inventory (repository, branch and
-- directory), what the last watcher of it reported, and which source each run came from.
CREATE TABLE controller_source (
  id         boolean PRIMARY KEY DEFAULT true CHECK (id),
  repo       text NOT NULL,
  branch     text NOT NULL DEFAULT '',
  dir        text NOT NULL DEFAULT '',
  claimed_by text NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE controller_watchers (
  name       text PRIMARY KEY,
  status     jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE controller_runs ADD COLUMN source text NOT NULL DEFAULT '';
