-- The CLI secret of OIDC users (issue 19): what podman, docker and skopeo send as the password, since an OIDC user
-- has none. Hashed with scrypt as passwords are (Harbor stores it encrypted and shows it again; Berth shows it once).
-- It counts only while the sealed refresh token still refreshes at the provider: refresh_checked_at is when it last
-- did (checks are kept BERTH_OIDC_REFRESH_CHECK_SECONDS), and groups are the provider's groups claim as of the last
-- sign-in or refresh, which CLI logins get the project roles of.
ALTER TABLE oidc_identities
  ADD COLUMN cli_secret_hash    text NOT NULL DEFAULT '',
  ADD COLUMN cli_secret_created timestamptz,
  ADD COLUMN refresh_checked_at timestamptz,
  ADD COLUMN groups             jsonb NOT NULL DEFAULT '[]'::jsonb;
