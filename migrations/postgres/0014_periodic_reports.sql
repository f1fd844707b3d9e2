-- The monthly reports (per OPD, per application, the regency's totals), made once per month and
-- kept as they were made, for download.
CREATE TABLE periodic_reports (
    period      TEXT PRIMARY KEY,
    period_from BIGINT NOT NULL,
    period_to   BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    content     TEXT NOT NULL
);
