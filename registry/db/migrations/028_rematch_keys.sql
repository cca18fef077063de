-- Re-matching only what an import touched (issue 16). Each import that changes records notes the packages those
-- records named before and after, under the generation it made; each report notes the packages of its image. A
-- report whose packages meet none of the changes since its generation only moves to the new generation.
CREATE TABLE vulndb_changes (
  generation bigint NOT NULL,
  -- OSV ecosystem and package name, joined by a line feed (neither holds one).
  key        text NOT NULL,
  PRIMARY KEY (generation, key)
);
-- Changes are complete from this generation on (older ones were never noted, or are pruned).
ALTER TABLE vulndb_state ADD COLUMN changes_since bigint;
UPDATE vulndb_state SET changes_since = generation;

ALTER TABLE scan_reports ADD COLUMN keys text[];
CREATE INDEX scan_reports_keys ON scan_reports USING gin (keys);
