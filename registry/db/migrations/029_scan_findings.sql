-- Findings kept once per package version (issue 16). Each report of the embedded scanner stored its findings whole
-- (~500 kB of JSON per image), and a database import rewrote every affected report: 1 000 images took ~30 s. Now a
-- report is its image's packages, written once by the scan, joined with what the database says of each package
-- version (a judgement, shared by every image holding that version): an import re-judges the package versions whose
-- records changed and recounts the reports that hold them; no report is rewritten.

-- What the records say of one package version. `key` is the JSON array [OSV ecosystem, package ecosystem, source
-- name, source version]; `change_key` is the vulndb_changes key of the records asked (OSV ecosystem, line feed,
-- name); `generation` is the vulnerability database generation it was judged against.
CREATE TABLE scan_judgements (
  key        text PRIMARY KEY,
  change_key text NOT NULL,
  generation bigint NOT NULL,
  -- Why judging stopped (a version the ecosystem's ordering cannot read).
  invalid    text
);
CREATE INDEX scan_judgements_change ON scan_judgements (change_key);
CREATE INDEX scan_judgements_generation ON scan_judgements (generation);

-- One vulnerability of a judged package version: the records of one id merged.
CREATE TABLE scan_advisories (
  judgement   text NOT NULL REFERENCES scan_judgements (key) ON DELETE CASCADE,
  id          text NOT NULL,
  severity    text NOT NULL,
  fix_version text NOT NULL,
  score_v3    double precision,
  vector_v3   text,
  description text NOT NULL,
  links       jsonb NOT NULL,
  ids         jsonb NOT NULL,
  PRIMARY KEY (judgement, id)
);

-- The packages of an image the embedded scanner judged, each naming its judgement. A judgement is kept while a
-- package names it.
CREATE TABLE scan_packages (
  report_id text NOT NULL REFERENCES scan_reports (id) ON DELETE CASCADE,
  judgement text NOT NULL REFERENCES scan_judgements (key),
  -- The OSV ecosystem, as findings name it.
  ecosystem text NOT NULL,
  name      text NOT NULL,
  version   text NOT NULL,
  path      text NOT NULL,
  purl      text NOT NULL
);
CREATE INDEX scan_packages_report ON scan_packages (report_id);
CREATE INDEX scan_packages_judgement ON scan_packages (judgement);

-- Reports stored whole before this are matched again from their inventories into the tables above (the next
-- re-match does it: it takes reports that still hold an inventory, whatever their generation).
