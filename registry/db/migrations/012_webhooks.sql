-- Webhook policies (HARBOR-MODEL §9) and a durable outbox: every event a policy subscribes to becomes one delivery
-- row per target at publish time, so a restart or a receiver outage loses nothing.
CREATE TABLE webhook_policies (
  id          serial PRIMARY KEY,
  project_id  integer NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  enabled     boolean NOT NULL DEFAULT true,
  event_types jsonb NOT NULL,
  -- [{type, address, auth_header, skip_cert_verify, payload_format, secret}]: auth_header and secret are never
  -- returned by the API.
  targets     jsonb NOT NULL,
  creator     text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);

CREATE TABLE webhook_deliveries (
  id              bigserial PRIMARY KEY,
  policy_id       integer NOT NULL REFERENCES webhook_policies (id) ON DELETE CASCADE,
  event_type      text NOT NULL,
  target          jsonb NOT NULL,
  payload         text NOT NULL,
  status          text NOT NULL DEFAULT 'Pending' CHECK (status IN ('Pending', 'Running', 'Success', 'Error')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- A node sending this holds it until then; past it, another node may take it over.
  lease_until     timestamptz,
  last_error      text NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status IN ('Pending', 'Running');
CREATE INDEX webhook_deliveries_policy ON webhook_deliveries (policy_id, id DESC);

CREATE TABLE webhook_attempts (
  id           bigserial PRIMARY KEY,
  delivery_id  bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz NOT NULL DEFAULT now(),
  status_code  integer,
  error        text NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
