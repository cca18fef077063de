-- Web UI sessions (issue 17). The browser holds a random session id in an HttpOnly cookie; only its SHA-256 is kept
-- here, so a database dump signs nobody in. A session ends when unused for BERTH_UI_SESSION_IDLE_SECONDS
-- (last_seen_at) or BERTH_UI_SESSION_MAX_SECONDS after sign-in (created_at), or at sign-out (the row is deleted);
-- deleting the user deletes its sessions. password_stamp is md5 of the user's password hash at sign-in: a change
-- detector, not a secret (the hash is scrypt's and salted), so a new password ends every session made with the old.
CREATE TABLE ui_sessions (
  id_hash        bytea PRIMARY KEY,
  user_id        integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  password_stamp text NOT NULL,
  created_at     timestamptz NOT NULL,
  last_seen_at   timestamptz NOT NULL
);
CREATE INDEX ui_sessions_user ON ui_sessions (user_id);
CREATE INDEX ui_sessions_last_seen ON ui_sessions (last_seen_at);
