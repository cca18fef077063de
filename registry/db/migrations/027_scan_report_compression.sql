-- Reports are rewritten whenever the vulnerability database changes (hundreds of kB of jsonb each, a thousand
-- artifacts in a few seconds): lz4 compresses them about ten times faster than the default pglz (issue 16).
-- A PostgreSQL built without lz4 (PGlite) keeps pglz.
DO $$
BEGIN
  ALTER TABLE scan_reports ALTER COLUMN report SET COMPRESSION lz4;
  ALTER TABLE scan_reports ALTER COLUMN inventory SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  NULL;
END
$$;
