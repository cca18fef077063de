-- Harbor's user fields, and project membership (entity u = user, g = group; groups arrive later).
ALTER TABLE users
  ADD COLUMN email     text,
  ADD COLUMN realname  text NOT NULL DEFAULT '',
  ADD COLUMN comment   text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX users_email ON users (lower(email)) WHERE email IS NOT NULL AND email <> '';

CREATE TABLE project_members (
  id          serial PRIMARY KEY,
  project_id  integer NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  entity_id   integer NOT NULL,
  entity_type char(1) NOT NULL CHECK (entity_type IN ('u', 'g')),
  role_id     integer NOT NULL CHECK (role_id BETWEEN 1 AND 5),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, entity_id, entity_type)
);
CREATE INDEX project_members_entity ON project_members (entity_type, entity_id);

-- The bootstrap admin owns `library`; owners are project admins, as in Harbor.
INSERT INTO project_members (project_id, entity_id, entity_type, role_id)
SELECT id, owner_id, 'u', 1 FROM projects WHERE owner_id IS NOT NULL
ON CONFLICT DO NOTHING;
