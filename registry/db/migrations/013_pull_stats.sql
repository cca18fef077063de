-- Pull statistics for the artifacts API (and retention's "pulled within" rules), written in batches off the pull path.
ALTER TABLE repositories ADD COLUMN pull_count bigint NOT NULL DEFAULT 0;
ALTER TABLE manifests ADD COLUMN pull_time timestamptz;
