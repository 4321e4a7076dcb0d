-- 001: the foundation schema.  Forward-only: later changes go in 002_*.sql, ...
-- Keys are declared as PRIMARY KEY where DuckDB enforces them cheaply; links
-- between tables are not FOREIGN KEYs (DuckDB forbids updating referenced
-- rows), so integrity is checked by code and tests.

CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    flow VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status VARCHAR NOT NULL,
    stages VARCHAR[],
    sources VARCHAR[],
    params JSON,
    counts JSON,
    stage_seconds JSON,
    message VARCHAR
);
COMMENT ON TABLE runs IS 'One row per flow run (ingestion or backfill): what it did, how long each stage took, how it ended.';
COMMENT ON COLUMN runs.run_id IS 'Run identifier (the Prefect flow run id when run under Prefect).';
COMMENT ON COLUMN runs.flow IS 'Which flow: ingest or backfill.';
COMMENT ON COLUMN runs.started_at IS 'UTC time the run started.';
COMMENT ON COLUMN runs.finished_at IS 'UTC time the run ended; NULL while running or after a crash.';
COMMENT ON COLUMN runs.status IS 'running, completed or failed.';
COMMENT ON COLUMN runs.stages IS 'Stages the run executed, in order.';
COMMENT ON COLUMN runs.sources IS 'Source folders or files the run read (empty for stage-only runs).';
COMMENT ON COLUMN runs.params IS 'Parameters of the run (filters, models, thresholds) as JSON.';
COMMENT ON COLUMN runs.counts IS 'Counts of what the run added or processed, by name, as JSON.';
COMMENT ON COLUMN runs.stage_seconds IS 'Wall-clock seconds per stage, as JSON.';
COMMENT ON COLUMN runs.message IS 'Error message for a failed run; NULL otherwise.';

CREATE TABLE source_files (
    source_uri VARCHAR NOT NULL,
    file_hash VARCHAR NOT NULL,
    size_bytes BIGINT,
    modified_at TIMESTAMP,
    status VARCHAR NOT NULL,
    documents INTEGER NOT NULL,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (source_uri, file_hash)
);
COMMENT ON TABLE source_files IS 'Every file version seen, so that a re-run skips what it already read.';
COMMENT ON COLUMN source_files.source_uri IS 'file:// URI of the file.';
COMMENT ON COLUMN source_files.file_hash IS 'SHA-256 of the file bytes (empty for files with no reader).';
COMMENT ON COLUMN source_files.size_bytes IS 'File size in bytes when read.';
COMMENT ON COLUMN source_files.modified_at IS 'File modification time when read (UTC).';
COMMENT ON COLUMN source_files.status IS 'ingested (documents stored) or rejected (see ingest_errors).';
COMMENT ON COLUMN source_files.documents IS 'Number of documents the file yielded.';
COMMENT ON COLUMN source_files.run_id IS 'Run that read this file version.';

CREATE TABLE documents (
    doc_id VARCHAR PRIMARY KEY,
    source_uri VARCHAR NOT NULL,
    record_index INTEGER NOT NULL,
    format VARCHAR NOT NULL,
    title VARCHAR,
    published_on DATE,
    publisher VARCHAR,
    url VARCHAR,
    doc_type VARCHAR,
    language VARCHAR,
    content_hash VARCHAR NOT NULL,
    file_hash VARCHAR NOT NULL,
    duplicate_of VARCHAR,
    duplicate_kind VARCHAR,
    duplicate_similarity DOUBLE,
    word_count INTEGER NOT NULL,
    paragraph_count INTEGER NOT NULL,
    metadata JSON,
    run_id VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE documents IS 'One row per document (an article, speech, statement, ...); duplicates are kept and linked to their canonical copy.';
COMMENT ON COLUMN documents.doc_id IS 'Stable id: hash of source URI, record index and content.';
COMMENT ON COLUMN documents.source_uri IS 'file:// URI of the file the document came from.';
COMMENT ON COLUMN documents.record_index IS 'Position of the document inside its file (0 unless a JSON/JSONL file holds several).';
COMMENT ON COLUMN documents.format IS 'Input format: txt, md, html, pdf, json or jsonl.';
COMMENT ON COLUMN documents.title IS 'Title, from metadata or the text header.';
COMMENT ON COLUMN documents.published_on IS 'Publication date; NULL when the document does not give one.';
COMMENT ON COLUMN documents.publisher IS 'Publisher or source (news agency, embassy, ministry, site); NULL when unknown.';
COMMENT ON COLUMN documents.url IS 'Original URL when known.';
COMMENT ON COLUMN documents.doc_type IS 'news, speech, statement, op-ed, press_qa or policy; inferred by rules (metadata.doc_type_rule says which).';
COMMENT ON COLUMN documents.language IS 'ISO 639-1 language code detected from the text.';
COMMENT ON COLUMN documents.content_hash IS 'Hash of the normalized paragraph text: equal hashes mean exact duplicates.';
COMMENT ON COLUMN documents.file_hash IS 'SHA-256 of the source file bytes.';
COMMENT ON COLUMN documents.duplicate_of IS 'doc_id of the canonical copy when this document is a duplicate; NULL for canonical documents.';
COMMENT ON COLUMN documents.duplicate_kind IS 'exact (same normalized text) or near (MinHash Jaccard at or above the threshold).';
COMMENT ON COLUMN documents.duplicate_similarity IS 'Estimated Jaccard similarity with the canonical copy (1.0 for exact).';
COMMENT ON COLUMN documents.word_count IS 'Words in the clean paragraphs.';
COMMENT ON COLUMN documents.paragraph_count IS 'Number of clean paragraphs.';
COMMENT ON COLUMN documents.metadata IS 'Other metadata as JSON (front-matter fields, doc_type_rule, dropped line count).';
COMMENT ON COLUMN documents.run_id IS 'Run that ingested the document.';
COMMENT ON COLUMN documents.ingested_at IS 'UTC time the document was stored.';

CREATE TABLE document_signatures (
    doc_id VARCHAR PRIMARY KEY,
    minhash UBIGINT[] NOT NULL
);
COMMENT ON TABLE document_signatures IS 'MinHash signatures of canonical documents, reloaded into the LSH index for near-duplicate detection.';
COMMENT ON COLUMN document_signatures.doc_id IS 'The canonical document.';
COMMENT ON COLUMN document_signatures.minhash IS 'MinHash hash values over word 5-gram shingles (datasketch).';

CREATE TABLE paragraphs (
    paragraph_id VARCHAR PRIMARY KEY,
    doc_id VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    text VARCHAR NOT NULL,
    text_hash VARCHAR NOT NULL,
    word_count INTEGER NOT NULL,
    duplicate_of VARCHAR,
    duplicate_kind VARCHAR
);
COMMENT ON TABLE paragraphs IS 'Clean paragraphs in document order; annotations live on canonical paragraphs (duplicate_of IS NULL).';
COMMENT ON COLUMN paragraphs.paragraph_id IS 'doc_id, a dash and the zero-padded position.';
COMMENT ON COLUMN paragraphs.doc_id IS 'Document the paragraph belongs to.';
COMMENT ON COLUMN paragraphs.position IS 'Zero-based position in the document.';
COMMENT ON COLUMN paragraphs.text IS 'Paragraph text, menus and widgets removed, wrapped lines joined.';
COMMENT ON COLUMN paragraphs.text_hash IS 'Hash of the normalized text; the cache key for every model stage.';
COMMENT ON COLUMN paragraphs.word_count IS 'Whitespace-separated words.';
COMMENT ON COLUMN paragraphs.duplicate_of IS 'paragraph_id of the canonical copy (repeated caption, boilerplate, duplicate document); NULL when canonical.';
COMMENT ON COLUMN paragraphs.duplicate_kind IS 'exact (same normalized text anywhere) or near (similar paragraph in the same document).';

CREATE TABLE entities (
    entity_id VARCHAR PRIMARY KEY,
    canonical_name VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    aliases VARCHAR[] NOT NULL
);
COMMENT ON TABLE entities IS 'Canonical named entities: one row per real-world entity, whatever the surface forms.';
COMMENT ON COLUMN entities.entity_id IS 'Hash of label and canonical name.';
COMMENT ON COLUMN entities.canonical_name IS 'Full name without titles (United Nations, Xi Jinping).';
COMMENT ON COLUMN entities.label IS 'PERSON, ORG, GPE, LOC, NORP, EVENT or LAW (LAW also covers initiatives, plans and resolutions).';
COMMENT ON COLUMN entities.aliases IS 'Every surface form seen for the entity (UN, U.N., the United Nations).';

CREATE TABLE mentions (
    paragraph_id VARCHAR NOT NULL,
    entity_id VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    method VARCHAR NOT NULL,
    PRIMARY KEY (paragraph_id, start_char, end_char)
);
COMMENT ON TABLE mentions IS 'Entity mentions in canonical paragraphs, with character offsets into paragraphs.text.';
COMMENT ON COLUMN mentions.paragraph_id IS 'Paragraph holding the mention.';
COMMENT ON COLUMN mentions.entity_id IS 'Canonical entity the mention refers to.';
COMMENT ON COLUMN mentions.text IS 'Surface text as written.';
COMMENT ON COLUMN mentions.label IS 'Entity type of the mention (same as the entity label).';
COMMENT ON COLUMN mentions.start_char IS 'Start offset (inclusive) in the paragraph text.';
COMMENT ON COLUMN mentions.end_char IS 'End offset (exclusive) in the paragraph text.';
COMMENT ON COLUMN mentions.method IS 'model (spaCy NER), rule (entity ruler) or coref (surname linked to an earlier full name).';

CREATE TABLE themes (
    theme_id VARCHAR PRIMARY KEY,
    label VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    examples VARCHAR[] NOT NULL,
    threshold DOUBLE NOT NULL,
    taxonomy_version VARCHAR NOT NULL
);
COMMENT ON TABLE themes IS 'The theme taxonomy currently applied (from themes/taxonomy.toml).';
COMMENT ON COLUMN themes.theme_id IS 'Stable theme id, e.g. capacity_building.';
COMMENT ON COLUMN themes.label IS 'Human-readable name.';
COMMENT ON COLUMN themes.description IS 'One-paragraph description, embedded to score paragraphs.';
COMMENT ON COLUMN themes.examples IS 'Example phrases, embedded with the description.';
COMMENT ON COLUMN themes.threshold IS 'Minimum cosine score for the theme to be assigned.';
COMMENT ON COLUMN themes.taxonomy_version IS 'Hash of the taxonomy file these rows came from.';

CREATE TABLE paragraph_themes (
    paragraph_id VARCHAR NOT NULL,
    theme_id VARCHAR NOT NULL,
    score FLOAT NOT NULL,
    assigned BOOLEAN NOT NULL,
    PRIMARY KEY (paragraph_id, theme_id)
);
COMMENT ON TABLE paragraph_themes IS 'Score of every theme for every canonical paragraph; assigned marks the (at most 3) themes it is about.';
COMMENT ON COLUMN paragraph_themes.paragraph_id IS 'Canonical paragraph.';
COMMENT ON COLUMN paragraph_themes.theme_id IS 'Theme.';
COMMENT ON COLUMN paragraph_themes.score IS 'Cosine similarity between the paragraph and the theme prototype (-1..1).';
COMMENT ON COLUMN paragraph_themes.assigned IS 'True when the score reaches the theme threshold and is among the paragraph top themes.';

CREATE TABLE document_themes (
    doc_id VARCHAR NOT NULL,
    theme_id VARCHAR NOT NULL,
    score FLOAT NOT NULL,
    paragraph_share FLOAT NOT NULL,
    PRIMARY KEY (doc_id, theme_id)
);
COMMENT ON TABLE document_themes IS 'Theme aggregate per document, over all its paragraphs (duplicates count with their canonical scores).';
COMMENT ON COLUMN document_themes.doc_id IS 'Document.';
COMMENT ON COLUMN document_themes.theme_id IS 'Theme.';
COMMENT ON COLUMN document_themes.score IS 'Word-weighted mean of paragraph scores.';
COMMENT ON COLUMN document_themes.paragraph_share IS 'Share of the document paragraphs to which the theme is assigned (0..1).';

CREATE TABLE embeddings (
    paragraph_id VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    vector FLOAT[384] NOT NULL,
    chunks INTEGER NOT NULL,
    text_hash VARCHAR NOT NULL,
    PRIMARY KEY (paragraph_id, model)
);
COMMENT ON TABLE embeddings IS 'L2-normalized sentence embedding of each canonical paragraph, per model.';
COMMENT ON COLUMN embeddings.paragraph_id IS 'Canonical paragraph.';
COMMENT ON COLUMN embeddings.model IS 'Embedding model name or path, as configured.';
COMMENT ON COLUMN embeddings.vector IS 'Unit-length vector; cosine similarity is the dot product (array_inner_product).';
COMMENT ON COLUMN embeddings.chunks IS 'Token windows averaged for this paragraph (1 unless longer than the model window).';
COMMENT ON COLUMN embeddings.text_hash IS 'Hash of the normalized text embedded (cache key).';

CREATE TABLE paragraph_annotations (
    paragraph_id VARCHAR NOT NULL,
    stage VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    annotated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (paragraph_id, stage)
);
COMMENT ON TABLE paragraph_annotations IS 'Lineage: which run and which model or taxonomy version produced each stage output for a paragraph; a missing or outdated row means pending.';
COMMENT ON COLUMN paragraph_annotations.paragraph_id IS 'Canonical paragraph.';
COMMENT ON COLUMN paragraph_annotations.stage IS 'entities, embed or themes.';
COMMENT ON COLUMN paragraph_annotations.version IS 'Model and rules version (entities), model (embed) or taxonomy version and model (themes).';
COMMENT ON COLUMN paragraph_annotations.run_id IS 'Run that wrote the annotation.';
COMMENT ON COLUMN paragraph_annotations.annotated_at IS 'UTC time the annotation was written.';

CREATE TABLE ingest_errors (
    run_id VARCHAR NOT NULL,
    source_uri VARCHAR NOT NULL,
    file_hash VARCHAR,
    stage VARCHAR NOT NULL,
    error_type VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE ingest_errors IS 'Inputs that were rejected, and why; the run went on without them.';
COMMENT ON COLUMN ingest_errors.run_id IS 'Run that met the problem.';
COMMENT ON COLUMN ingest_errors.source_uri IS 'file:// URI of the input.';
COMMENT ON COLUMN ingest_errors.file_hash IS 'SHA-256 of the file bytes, when they could be read.';
COMMENT ON COLUMN ingest_errors.stage IS 'Stage that rejected it.';
COMMENT ON COLUMN ingest_errors.error_type IS 'Short reason code: empty_file, bad_pdf, bad_json, unsupported_format, ...';
COMMENT ON COLUMN ingest_errors.message IS 'Human-readable reason.';
COMMENT ON COLUMN ingest_errors.occurred_at IS 'UTC time of the rejection.';
