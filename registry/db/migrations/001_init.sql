-- Users: only the built-in admin for now; the next issue adds the user API.
CREATE TABLE users (
  id            serial PRIMARY KEY,
  username      text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  sysadmin      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Projects follow Harbor: string-valued metadata, the first path segment of every repository.
CREATE TABLE projects (
  id          serial PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  owner_id    integer REFERENCES users (id) ON DELETE SET NULL,
  metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
  registry_id integer NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A repository row appears with its first upload; it is "visible" once it holds a manifest.
CREATE TABLE repositories (
  id         bigserial PRIMARY KEY,
  project_id integer NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name       text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX repositories_project ON repositories (project_id);

-- Blobs in the blob store, known by digest, shared by every repository that links them.
CREATE TABLE blobs (
  digest     text PRIMARY KEY,
  size       bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE repository_blobs (
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  digest        text NOT NULL REFERENCES blobs (digest),
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository_id, digest)
);
CREATE INDEX repository_blobs_digest ON repository_blobs (digest);

CREATE TABLE manifests (
  repository_id  bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  digest         text NOT NULL,
  media_type     text NOT NULL,
  size           integer NOT NULL,
  content        bytea NOT NULL,
  artifact_type  text,
  subject_digest text,
  annotations    jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository_id, digest)
);
CREATE INDEX manifests_subject ON manifests (repository_id, subject_digest) WHERE subject_digest IS NOT NULL;

-- What each manifest references (layers, config, child manifests): for garbage collection and safe deletes.
CREATE TABLE manifest_references (
  repository_id bigint NOT NULL,
  parent_digest text NOT NULL,
  child_digest  text NOT NULL,
  child_kind    text NOT NULL CHECK (child_kind IN ('blob', 'manifest')),
  PRIMARY KEY (repository_id, parent_digest, child_digest),
  FOREIGN KEY (repository_id, parent_digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
);
CREATE INDEX manifest_references_child ON manifest_references (repository_id, child_digest);

CREATE TABLE tags (
  repository_id bigint NOT NULL,
  name          text NOT NULL,
  digest        text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (repository_id, name),
  FOREIGN KEY (repository_id, digest) REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
);
CREATE INDEX tags_digest ON tags (repository_id, digest);

-- Upload sessions live here (not in memory) so that any node, or this one after a restart, can continue them.
CREATE TABLE uploads (
  id            text PRIMARY KEY,
  repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
