-- Tag retention (HARBOR-MODEL §6): one policy per project; each run (an execution of the scheduler) has one task per
-- repository with its decision table as the log.
CREATE TABLE retention_policies (
  id         serial PRIMARY KEY,
  project_id integer NOT NULL UNIQUE REFERENCES projects (id) ON DELETE CASCADE,
  policy     jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE retention_tasks (
  id           serial PRIMARY KEY,
  execution_id integer NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  repository   text NOT NULL,
  status       text NOT NULL,
  total        integer NOT NULL,
  retained     integer NOT NULL,
  log          text NOT NULL,
  start_time   timestamptz NOT NULL,
  end_time     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX retention_tasks_execution ON retention_tasks (execution_id, id);
