-- State of the GitOps controller, kept by the registry so that every controller instance shares it: the objects it
-- manages (its inventory: only these may ever be pruned), one lock so two controllers never apply at once, whether
-- it is suspended, and the history of its runs.
CREATE TABLE controller_inventory (
  kind       text NOT NULL,
  key        text NOT NULL,
  adopted    boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, key)
);

CREATE TABLE controller_lock (
  name   text PRIMARY KEY,
  holder text NOT NULL,
  until  timestamptz NOT NULL
);

CREATE TABLE controller_flags (
  name       text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE controller_runs (
  id          serial PRIMARY KEY,
  commit      text NOT NULL DEFAULT '',
  trigger     text NOT NULL CHECK (trigger IN ('commit', 'schedule', 'manual')),
  result      text NOT NULL CHECK (result IN ('success', 'failed', 'no-op', 'drift')),
  changes     integer NOT NULL DEFAULT 0,
  summary     jsonb NOT NULL DEFAULT '{}',
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX controller_runs_recent ON controller_runs (id DESC);
