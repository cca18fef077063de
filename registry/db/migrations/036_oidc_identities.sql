-- OIDC sign-in (issue 19): which provider account (issuer + subject) a Berth user is, and the refresh token of their
-- last sign-in, sealed with the secret key (registry/secrets): the CLI secret is valid only while it still refreshes.
-- A user is linked by subject, not by name, so a renamed provider account stays the same Berth user.
CREATE TABLE oidc_identities (
  user_id       integer PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  issuer        text NOT NULL,
  subject       text NOT NULL,
  refresh_token text NOT NULL DEFAULT '',
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (issuer, subject)
);
