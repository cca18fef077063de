-- Garbage collection needs to know when a blob, a blob link or a manifest was last written or referenced: a push
-- touches what it uses inside its transaction, and GC only removes what has been untouched for its grace period,
-- re-checked row by row as it deletes, so a push racing GC keeps what it needs.
ALTER TABLE blobs ADD COLUMN last_used timestamptz NOT NULL DEFAULT now();
ALTER TABLE repository_blobs ADD COLUMN last_used timestamptz NOT NULL DEFAULT now();
ALTER TABLE manifests ADD COLUMN last_used timestamptz NOT NULL DEFAULT now();
