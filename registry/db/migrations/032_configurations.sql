-- Run-time configuration (issue 18): Harbor's /configurations values an admin changed through the API, one row per
-- key (Harbor's properties table). A key without a row has its default; a key fixed by its BERTH_<KEY> variable is
-- never read from here. (Internal cluster-wide values stay in `settings`.)
CREATE TABLE configurations (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
