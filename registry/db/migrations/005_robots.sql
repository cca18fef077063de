-- Robot accounts (HARBOR-MODEL §4). `name` is the stored name: "<project>+<name>" for project robots, "<name>" for
-- system robots; clients log in as "robot$" + name. Secrets are stored as scrypt hashes only.
CREATE TABLE robots (
  id           serial PRIMARY KEY,
  name         text NOT NULL UNIQUE,
  description  text NOT NULL DEFAULT '',
  secret_hash  text NOT NULL,
  level        text NOT NULL CHECK (level IN ('system', 'project')),
  -- The project of a project-level robot: deleting the project deletes its robots, as in Harbor.
  project_id   integer REFERENCES projects (id) ON DELETE CASCADE,
  duration     integer NOT NULL,
  expires_at   bigint NOT NULL,
  disabled     boolean NOT NULL DEFAULT false,
  creator_type text NOT NULL,
  creator_ref  integer NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CHECK ((level = 'project') = (project_id IS NOT NULL))
);

-- One row per namespace a robot holds grants in: the system ("/"), one project, or every project ("*").
CREATE TABLE robot_permissions (
  id          serial PRIMARY KEY,
  robot_id    integer NOT NULL REFERENCES robots (id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('system', 'project')),
  -- NULL with kind 'project' means every project; a deleted project takes its grants with it.
  project_id  integer REFERENCES projects (id) ON DELETE CASCADE,
  access      jsonb NOT NULL,
  CHECK (kind = 'project' OR project_id IS NULL)
);
CREATE INDEX robot_permissions_robot ON robot_permissions (robot_id);

