-- 002: per-file read time (the per-file time limit applies to it) and the
-- run states added for crash safety and graceful stops.

ALTER TABLE source_files ADD COLUMN read_seconds DOUBLE;
COMMENT ON COLUMN source_files.read_seconds IS 'Seconds spent reading and parsing the file (NULL for files read before migration 002).';
COMMENT ON COLUMN runs.status IS 'running, completed, failed, cancelled (SIGINT/SIGTERM, stopped at a batch boundary) or interrupted (the process died; found by the next run).';
COMMENT ON COLUMN runs.message IS 'Why a run failed, was cancelled or was interrupted; NULL otherwise.';
