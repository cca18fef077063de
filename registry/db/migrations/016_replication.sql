-- Replication policies (HARBOR-MODEL §5.2). One side is a registry endpoint, the other this registry; a policy's
-- runs are scheduler executions (vendor REPLICATION) with one task per artifact copied or deleted.
CREATE TABLE replication_policies (
  id               serial PRIMARY KEY,
  name             text NOT NULL UNIQUE,
  src_registry_id  integer REFERENCES registries (id),
  dest_registry_id integer REFERENCES registries (id),
  policy           jsonb NOT NULL,
  creator          text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CHECK ((src_registry_id IS NULL) <> (dest_registry_id IS NULL))
);

CREATE TABLE replication_tasks (
  id            serial PRIMARY KEY,
  execution_id  integer NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  status        text NOT NULL DEFAULT 'Pending' CHECK (status IN ('Pending', 'InProgress', 'Succeed', 'Failed', 'Stopped')),
  operation     text NOT NULL,
  resource_type text NOT NULL,
  src_resource  text NOT NULL,
  dst_resource  text NOT NULL,
  log           text NOT NULL DEFAULT '',
  start_time    timestamptz,
  end_time      timestamptz
);
CREATE INDEX replication_tasks_execution ON replication_tasks (execution_id, id);
