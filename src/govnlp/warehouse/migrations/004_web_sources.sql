-- 004: web sources (feeds, sitemaps, URL lists): every request made, and
-- document versions (the same URL or file with changed content).

CREATE TABLE fetches (
    fetch_id VARCHAR PRIMARY KEY,
    run_id VARCHAR NOT NULL,
    source_name VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    url VARCHAR NOT NULL,
    final_url VARCHAR,
    status INTEGER,
    outcome VARCHAR NOT NULL,
    content_type VARCHAR,
    content_sha256 VARCHAR,
    size_bytes BIGINT,
    etag VARCHAR,
    last_modified VARCHAR,
    headers JSON,
    attempts INTEGER,
    seconds DOUBLE,
    fetched_at TIMESTAMP NOT NULL,
    error_type VARCHAR,
    message VARCHAR
);
COMMENT ON TABLE fetches IS 'One row per HTTP request a run made for a web source (robots.txt, listings, pages), with its answer; bodies are in the raw store.';
COMMENT ON COLUMN fetches.fetch_id IS 'Row id.';
COMMENT ON COLUMN fetches.run_id IS 'Run that made the request.';
COMMENT ON COLUMN fetches.source_name IS 'Source (sources.toml name, or a name derived from an ad-hoc URL).';
COMMENT ON COLUMN fetches.role IS 'robots (robots.txt), listing (feed, sitemap or URL list) or page (a document).';
COMMENT ON COLUMN fetches.url IS 'URL requested (a document''s source_uri for pages).';
COMMENT ON COLUMN fetches.final_url IS 'URL that answered, after redirects.';
COMMENT ON COLUMN fetches.status IS 'HTTP status of the final answer; NULL when no answer (refused, robots, connection error).';
COMMENT ON COLUMN fetches.outcome IS 'new, new_version, unchanged (same content as stored), not_modified (304), ok (listings, robots), failed, refused (unsafe address), rejected (type or size) or robots_disallowed.';
COMMENT ON COLUMN fetches.content_type IS 'Content-Type header of the answer.';
COMMENT ON COLUMN fetches.content_sha256 IS 'SHA-256 of the body: its name in the raw store (and source_files.file_hash for pages).';
COMMENT ON COLUMN fetches.size_bytes IS 'Body size in bytes.';
COMMENT ON COLUMN fetches.etag IS 'ETag of the answer, sent back as If-None-Match next time.';
COMMENT ON COLUMN fetches.last_modified IS 'Last-Modified of the answer, sent back as If-Modified-Since next time.';
COMMENT ON COLUMN fetches.headers IS 'All response headers (lower-cased names) as JSON.';
COMMENT ON COLUMN fetches.attempts IS 'Requests made for this URL including retries and redirect hops.';
COMMENT ON COLUMN fetches.seconds IS 'Wall-clock seconds from first attempt to final answer, including waits.';
COMMENT ON COLUMN fetches.fetched_at IS 'UTC time the fetch started.';
COMMENT ON COLUMN fetches.error_type IS 'Why there is no document (as in ingest_errors); NULL when fine.';
COMMENT ON COLUMN fetches.message IS 'Human-readable reason; NULL when fine.';

ALTER TABLE documents ADD COLUMN previous_version VARCHAR;
COMMENT ON COLUMN documents.previous_version IS 'doc_id of the earlier version of this document (same URL or file and record, different content); NULL for a first version.';
COMMENT ON COLUMN documents.source_uri IS 'Where the document came from: file:// URI of a file, or the http(s) URL of a fetched page.';
COMMENT ON COLUMN source_files.source_uri IS 'file:// URI of the file, or the URL of a fetched page.';
COMMENT ON COLUMN source_files.file_hash IS 'SHA-256 of the file bytes or fetched body (empty for files with no reader).';

CREATE VIEW document_versions AS
SELECT source_uri,
       record_index,
       row_number() OVER (PARTITION BY source_uri, record_index ORDER BY ingested_at, doc_id) AS version,
       count(*) OVER (PARTITION BY source_uri, record_index) AS versions,
       doc_id,
       previous_version,
       title,
       content_hash,
       ingested_at,
       row_number() OVER (PARTITION BY source_uri, record_index ORDER BY ingested_at DESC, doc_id DESC) = 1 AS is_latest
FROM documents;
COMMENT ON VIEW document_versions IS 'Version chain of every document: the same URL (or file) and record, in the order the versions were stored.';
COMMENT ON COLUMN document_versions.source_uri IS 'URL or file URI the versions share.';
COMMENT ON COLUMN document_versions.record_index IS 'Record within the file (0 for pages).';
COMMENT ON COLUMN document_versions.version IS '1 for the first stored version, then 2, 3, ...';
COMMENT ON COLUMN document_versions.versions IS 'How many versions are stored.';
COMMENT ON COLUMN document_versions.doc_id IS 'This version''s document.';
COMMENT ON COLUMN document_versions.previous_version IS 'The version before it (NULL for version 1).';
COMMENT ON COLUMN document_versions.title IS 'Title of this version.';
COMMENT ON COLUMN document_versions.content_hash IS 'Hash of this version''s text.';
COMMENT ON COLUMN document_versions.ingested_at IS 'When this version was stored.';
COMMENT ON COLUMN document_versions.is_latest IS 'True for the newest version.';
