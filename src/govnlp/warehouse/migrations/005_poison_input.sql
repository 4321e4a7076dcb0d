-- 005: poison input costs one row, never a run: file names that are not
-- UTF-8 stay identifiable, and a paragraph that makes a model stage fail is
-- recorded and skipped instead of failing every run that meets it.

ALTER TABLE source_files ADD COLUMN display_name VARCHAR;
ALTER TABLE source_files ADD COLUMN name_hex VARCHAR;
COMMENT ON COLUMN source_files.display_name IS 'The file path as text; bytes that are not UTF-8 shown as \xNN escapes (NULL for files read before migration 005).';
COMMENT ON COLUMN source_files.name_hex IS 'The exact path bytes in hex when the path is not valid UTF-8 (source_uri percent-encodes the same bytes); NULL otherwise.';

CREATE TABLE stage_errors (
    paragraph_id VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    error_type VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    PRIMARY KEY (paragraph_id, stage, version)
);
COMMENT ON TABLE stage_errors IS 'Paragraphs that made a model stage fail: isolated from their batch, recorded here and skipped (not retried) until the stage version changes; govnlp check lists them.';
COMMENT ON COLUMN stage_errors.paragraph_id IS 'Canonical paragraph that failed.';
COMMENT ON COLUMN stage_errors.stage IS 'entities, quotes, embed or themes.';
COMMENT ON COLUMN stage_errors.version IS 'Stage version it failed under (a new model or rule version tries it again).';
COMMENT ON COLUMN stage_errors.run_id IS 'Run that met the failure.';
COMMENT ON COLUMN stage_errors.error_type IS 'Exception class name.';
COMMENT ON COLUMN stage_errors.message IS 'Exception message (first 500 characters).';
COMMENT ON COLUMN stage_errors.occurred_at IS 'UTC time of the failure.';
