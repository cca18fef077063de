-- Immutable tag rules (HARBOR-MODEL §7.1). `selector_key` is the canonical JSON of the selectors: Harbor refuses an
-- identical second rule in a project (UNIQUE(project_id, tag_filter)), and so does this table.
CREATE TABLE immutable_tag_rules (
  id           serial PRIMARY KEY,
  project_id   integer NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  priority     integer NOT NULL DEFAULT 0,
  disabled     boolean NOT NULL DEFAULT false,
  selectors    jsonb NOT NULL,
  selector_key text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, selector_key)
);
