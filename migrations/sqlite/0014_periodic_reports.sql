-- The monthly reports (per OPD, per application, the regency's totals), made once per month and
-- kept as they were made, for download.
CREATE TABLE periodic_reports (
    period      TEXT PRIMARY KEY,
    period_from INTEGER NOT NULL,
    period_to   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    content     TEXT NOT NULL
);
