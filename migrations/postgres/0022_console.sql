-- The console: a person's page lists the audit events about them (found by target), and the
-- portal shows each application's icon, uploaded by an administrator and served by Pintu
-- itself (the pages' Content-Security-Policy allows images from Pintu only). The image is
-- kept as base64 text so that backups copy it like every other value.
CREATE INDEX audit_events_target_idx ON audit_events (target, seq);
CREATE TABLE application_icons (
    application_id TEXT PRIMARY KEY REFERENCES applications (id),
    content_type   TEXT NOT NULL,
    data_base64    TEXT NOT NULL,
    digest         TEXT NOT NULL,
    updated_at     BIGINT NOT NULL
);
-- E-mail goes as plain text with an HTML alternative; the HTML body is cleared with the text.
ALTER TABLE mail_outbox ADD COLUMN body_html TEXT NOT NULL DEFAULT '';
