-- Labels (issue 18), Harbor's: global ones (scope 'g', project_id NULL) made by system admins, project ones (scope
-- 'p') by the project's admins. A name is unique within its scope (and project); deleting a project deletes its
-- labels. artifact_labels ties a label to an artifact (a manifest of a repository): deleting either unties them, so a
-- deleted artifact leaves no label behind and a deleted label disappears from every artifact that carried it.
CREATE TABLE labels (
  id          serial PRIMARY KEY,
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  color       text NOT NULL DEFAULT '',
  scope       text NOT NULL CHECK (scope IN ('g', 'p')),
  project_id  integer REFERENCES projects (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CHECK ((scope = 'g') = (project_id IS NULL))
);
CREATE UNIQUE INDEX labels_global_name ON labels (name) WHERE scope = 'g';
CREATE UNIQUE INDEX labels_project_name ON labels (project_id, name) WHERE scope = 'p';

CREATE TABLE artifact_labels (
  repository_id bigint NOT NULL,
  digest        text NOT NULL,
  label_id      integer NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository_id, digest, label_id),
  FOREIGN KEY (repository_id, digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
);
CREATE INDEX artifact_labels_label ON artifact_labels (label_id);
