-- The groups a directory or OIDC provider gave the user at sign-in, kept with the web UI session (issue 19): the
-- session's requests get the project roles of those groups, as requests signed in with a password do. An array of
-- {"type": 1|2|3, "name": DN or group name}; empty for database users.
ALTER TABLE ui_sessions ADD COLUMN groups jsonb NOT NULL DEFAULT '[]'::jsonb;
