-- Who opened an upload session, so one caller cannot hold an unbounded number of them.
ALTER TABLE uploads ADD COLUMN owner text NOT NULL DEFAULT '';
CREATE INDEX uploads_owner ON uploads (owner);
