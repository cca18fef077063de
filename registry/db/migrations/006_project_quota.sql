-- The project's storage quota in bytes (HARBOR-MODEL §2.4, §7.2): -1 = unlimited, set once at creation.
ALTER TABLE projects ADD COLUMN storage_limit bigint NOT NULL DEFAULT -1;
