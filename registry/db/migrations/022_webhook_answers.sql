-- What a webhook receiver answered (an excerpt of its body) is kept apart from the error: the receiver may be any
-- host a project admin named, so its words are shown to system admins only; everyone else sees the status code.
ALTER TABLE webhook_attempts ADD COLUMN answer text NOT NULL DEFAULT '';
ALTER TABLE webhook_deliveries ADD COLUMN last_answer text NOT NULL DEFAULT '';
