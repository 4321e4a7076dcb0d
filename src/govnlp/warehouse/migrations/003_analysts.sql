-- 003: who said what (the quotes stage) and the analysts' views and macros.
-- Views and macros hold no data: they are the documented way to ask the
-- common questions in a few lines (README "For analysts", `govnlp docs`).
-- Keyword search (BM25) and semantic search need extensions or a model, so
-- they are created elsewhere: keyword_search with the full-text index after
-- each run (warehouse/search_index.py), semantic_search in the session that
-- `govnlp sql` or govnlp.analyst.connect() opens.

CREATE TABLE quotes (
    quote_id VARCHAR PRIMARY KEY,
    paragraph_id VARCHAR NOT NULL,
    doc_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    quote_text VARCHAR NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    speaker_text VARCHAR,
    speaker_entity_id VARCHAR,
    speaker_name VARCHAR,
    verb VARCHAR,
    method VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL
);
COMMENT ON TABLE quotes IS 'Who said what: direct and reported quotations found by the quotes stage (dependency parse plus rules).';
COMMENT ON COLUMN quotes.quote_id IS 'Stable id: hash of paragraph_id and the quote''s character span.';
COMMENT ON COLUMN quotes.paragraph_id IS 'Paragraph holding the quotation (paragraphs.paragraph_id).';
COMMENT ON COLUMN quotes.doc_id IS 'Document of that paragraph (documents.doc_id).';
COMMENT ON COLUMN quotes.kind IS 'direct (in quotation marks) or reported (X said that ...).';
COMMENT ON COLUMN quotes.quote_text IS 'What was said, without the quotation marks.';
COMMENT ON COLUMN quotes.start_char IS 'Start of quote_text in the paragraph text (0-based character offset).';
COMMENT ON COLUMN quotes.end_char IS 'End of quote_text in the paragraph text (exclusive).';
COMMENT ON COLUMN quotes.speaker_text IS 'The speaker as written in the paragraph ("Wang Yi", "he", "the minister"); NULL if none was found.';
COMMENT ON COLUMN quotes.speaker_entity_id IS 'The speaker''s canonical entity (entities.entity_id), resolved through the entity mentions; NULL if unresolved.';
COMMENT ON COLUMN quotes.speaker_name IS 'Canonical name of the speaker entity; NULL if unresolved.';
COMMENT ON COLUMN quotes.verb IS 'Lemma of the reporting verb (say, note, stress, ...); NULL for "according to".';
COMMENT ON COLUMN quotes.method IS 'The rule that found the quotation.';
COMMENT ON COLUMN quotes.run_id IS 'Run that wrote the row (runs.run_id).';

-- Building blocks -----------------------------------------------------------

CREATE VIEW document_facts AS
SELECT doc_id, title, published_on, date_trunc('month', published_on)::DATE AS month, publisher, doc_type,
       language, duplicate_of IS NOT NULL AS is_duplicate, duplicate_kind, source_uri, url, word_count, paragraph_count
FROM documents;
COMMENT ON VIEW document_facts IS 'One row per document with its month and a duplicate flag: the base of the per-month questions.';
COMMENT ON COLUMN document_facts.doc_id IS 'Document id (documents.doc_id).';
COMMENT ON COLUMN document_facts.title IS 'Title.';
COMMENT ON COLUMN document_facts.published_on IS 'Publication date (NULL if unknown).';
COMMENT ON COLUMN document_facts.month IS 'First day of the publication month.';
COMMENT ON COLUMN document_facts.publisher IS 'Publisher.';
COMMENT ON COLUMN document_facts.doc_type IS 'Document type (statement, speech, article, ...).';
COMMENT ON COLUMN document_facts.language IS 'ISO 639-1 language code.';
COMMENT ON COLUMN document_facts.is_duplicate IS 'True when the document duplicates an earlier one (exact or near).';
COMMENT ON COLUMN document_facts.duplicate_kind IS 'exact or near; NULL for originals.';
COMMENT ON COLUMN document_facts.source_uri IS 'Where the document came from.';
COMMENT ON COLUMN document_facts.url IS 'URL given by the source, if any.';
COMMENT ON COLUMN document_facts.word_count IS 'Words in the document.';
COMMENT ON COLUMN document_facts.paragraph_count IS 'Paragraphs in the document.';

CREATE VIEW entity_mentions AS
SELECT m.paragraph_id, p.doc_id, d.published_on, d.publisher, e.entity_id, e.canonical_name, e.label,
       m.text AS mention_text, m.start_char, m.end_char, m.method
FROM mentions m
JOIN entities e USING (entity_id)
JOIN paragraphs p USING (paragraph_id)
JOIN documents d ON d.doc_id = p.doc_id;
COMMENT ON VIEW entity_mentions IS 'Every entity mention with its canonical entity, paragraph, document, date and publisher.';
COMMENT ON COLUMN entity_mentions.paragraph_id IS 'Paragraph of the mention.';
COMMENT ON COLUMN entity_mentions.doc_id IS 'Document of the mention.';
COMMENT ON COLUMN entity_mentions.published_on IS 'Publication date of the document.';
COMMENT ON COLUMN entity_mentions.publisher IS 'Publisher of the document.';
COMMENT ON COLUMN entity_mentions.entity_id IS 'Canonical entity (entities.entity_id).';
COMMENT ON COLUMN entity_mentions.canonical_name IS 'Canonical name ("United Nations" for UN, U.N., the United Nations).';
COMMENT ON COLUMN entity_mentions.label IS 'Entity type: PERSON, ORG, GPE, LOC, NORP, EVENT or LAW.';
COMMENT ON COLUMN entity_mentions.mention_text IS 'The mention as written.';
COMMENT ON COLUMN entity_mentions.start_char IS 'Start offset in the paragraph text.';
COMMENT ON COLUMN entity_mentions.end_char IS 'End offset in the paragraph text (exclusive).';
COMMENT ON COLUMN entity_mentions.method IS 'model, rule or coref (a bare surname resolved to the full name).';

-- 1. Documents per publisher, type and month --------------------------------

CREATE VIEW documents_per_month AS
SELECT month, publisher, doc_type,
       count(*) AS documents,
       count(*) FILTER (WHERE NOT is_duplicate) AS unique_documents,
       count(*) FILTER (WHERE is_duplicate) AS duplicates
FROM document_facts
GROUP BY ALL;
COMMENT ON VIEW documents_per_month IS 'Question 1: documents per month, publisher and type, with and without duplicates.';
COMMENT ON COLUMN documents_per_month.month IS 'First day of the publication month (NULL: date unknown).';
COMMENT ON COLUMN documents_per_month.publisher IS 'Publisher.';
COMMENT ON COLUMN documents_per_month.doc_type IS 'Document type.';
COMMENT ON COLUMN documents_per_month.documents IS 'All documents, duplicates included.';
COMMENT ON COLUMN documents_per_month.unique_documents IS 'Documents that duplicate no earlier document.';
COMMENT ON COLUMN documents_per_month.duplicates IS 'Exact and near duplicates of earlier documents.';

-- 2. Most mentioned entities --------------------------------------------------

CREATE MACRO top_entities(since := NULL, until := NULL, entity_type := NULL, n := 20) AS TABLE
SELECT canonical_name, label, count(DISTINCT doc_id) AS documents, count(DISTINCT paragraph_id) AS paragraphs, count(*) AS mentions
FROM entity_mentions
WHERE (since IS NULL OR published_on >= CAST(since AS DATE)) AND (until IS NULL OR published_on <= CAST(until AS DATE))
  AND (entity_type IS NULL OR label = upper(entity_type))
GROUP BY ALL
ORDER BY documents DESC, paragraphs DESC, canonical_name
LIMIT n;
COMMENT ON MACRO TABLE top_entities IS 'Question 2: most mentioned canonical entities (by documents, then paragraphs) in a date range, optionally of one type.';

-- 3. Co-occurrence --------------------------------------------------------------

CREATE MACRO paragraphs_mentioning(a, b) AS TABLE
SELECT p.paragraph_id, p.doc_id, d.title, d.published_on, p.text
FROM paragraphs p JOIN documents d USING (doc_id)
WHERE p.paragraph_id IN (SELECT paragraph_id FROM entity_mentions WHERE lower(canonical_name) = lower(a))
  AND p.paragraph_id IN (SELECT paragraph_id FROM entity_mentions WHERE lower(canonical_name) = lower(b))
ORDER BY d.published_on, p.doc_id, p.position;
COMMENT ON MACRO TABLE paragraphs_mentioning IS 'Question 3: paragraphs in which two entities (canonical names, any case) are both mentioned.';

CREATE MACRO entity_network(since := NULL, until := NULL, min_paragraphs := 1) AS TABLE
WITH pe AS (
    SELECT DISTINCT paragraph_id, canonical_name, label FROM entity_mentions
    WHERE (since IS NULL OR published_on >= CAST(since AS DATE)) AND (until IS NULL OR published_on <= CAST(until AS DATE))
)
SELECT a.canonical_name AS entity_a, a.label AS label_a, b.canonical_name AS entity_b, b.label AS label_b, count(*) AS paragraphs
FROM pe a JOIN pe b ON a.paragraph_id = b.paragraph_id AND a.canonical_name < b.canonical_name
GROUP BY ALL
HAVING count(*) >= min_paragraphs
ORDER BY paragraphs DESC, entity_a, entity_b;
COMMENT ON MACRO TABLE entity_network IS 'Question 3: entity co-occurrence network, pairs of canonical entities with the number of paragraphs mentioning both.';

-- 4. Themes -----------------------------------------------------------------------

CREATE VIEW theme_trends AS
WITH canonical AS (
    SELECT p.paragraph_id, f.month, f.publisher
    FROM paragraphs p JOIN document_facts f USING (doc_id)
    WHERE p.duplicate_of IS NULL AND NOT f.is_duplicate
      AND EXISTS (SELECT 1 FROM paragraph_annotations a WHERE a.paragraph_id = p.paragraph_id AND a.stage = 'themes')
), totals AS (
    SELECT month, publisher, count(*) AS all_paragraphs FROM canonical GROUP BY ALL
)
SELECT c.month, c.publisher, t.theme_id, t.label AS theme, count(*) AS paragraphs, any_value(tt.all_paragraphs) AS all_paragraphs,
       count(*) / any_value(tt.all_paragraphs) AS share
FROM canonical c
JOIN paragraph_themes pt ON pt.paragraph_id = c.paragraph_id AND pt.assigned
JOIN themes t USING (theme_id)
JOIN totals tt ON tt.month IS NOT DISTINCT FROM c.month AND tt.publisher IS NOT DISTINCT FROM c.publisher
GROUP BY c.month, c.publisher, t.theme_id, t.label;
COMMENT ON VIEW theme_trends IS 'Question 4: share of paragraphs on each theme per month and publisher (unique paragraphs of unique documents).';
COMMENT ON COLUMN theme_trends.month IS 'First day of the publication month.';
COMMENT ON COLUMN theme_trends.publisher IS 'Publisher.';
COMMENT ON COLUMN theme_trends.theme_id IS 'Theme id (themes.theme_id).';
COMMENT ON COLUMN theme_trends.theme IS 'Theme label.';
COMMENT ON COLUMN theme_trends.paragraphs IS 'Paragraphs assigned the theme in that month and publisher.';
COMMENT ON COLUMN theme_trends.all_paragraphs IS 'All theme-scored paragraphs in that month and publisher.';
COMMENT ON COLUMN theme_trends.share IS 'paragraphs / all_paragraphs.';

CREATE MACRO documents_about(theme_name, n := 10) AS TABLE
SELECT d.doc_id, d.title, d.published_on, d.publisher, t.label AS theme, dt.paragraph_share::DOUBLE AS paragraph_share, dt.score::DOUBLE AS score
FROM document_themes dt JOIN themes t USING (theme_id) JOIN documents d USING (doc_id)
WHERE lower(t.theme_id) = lower(theme_name) OR lower(t.label) = lower(theme_name)
ORDER BY dt.paragraph_share DESC, dt.score DESC, d.doc_id
LIMIT n;
COMMENT ON MACRO TABLE documents_about IS 'Question 4: the documents most about a theme (theme id or label), by share of their paragraphs on it.';

-- 5. Semantic search without a model: paragraphs like a stored paragraph --------

CREATE MACRO similar_paragraphs(to_paragraph, k := 10) AS TABLE
WITH q AS (SELECT vector, model FROM embeddings WHERE paragraph_id = to_paragraph LIMIT 1)
SELECT p.paragraph_id, p.doc_id, d.title, d.published_on, array_cosine_similarity(e.vector, q.vector)::DOUBLE AS similarity, p.text
FROM q JOIN embeddings e ON e.model = q.model AND e.paragraph_id <> to_paragraph
JOIN paragraphs p ON p.paragraph_id = e.paragraph_id JOIN documents d ON d.doc_id = p.doc_id
ORDER BY similarity DESC
LIMIT k;
COMMENT ON MACRO TABLE similar_paragraphs IS 'Question 5 (no model needed): the k paragraphs closest in meaning to a stored paragraph (cosine similarity of embeddings).';

-- 7. Similar documents and duplicate clusters ------------------------------------

CREATE VIEW document_vectors AS
SELECT doc_id, model, list(v ORDER BY i)::FLOAT[384] AS vector
FROM (
    SELECT doc_id, model, i, avg(v) AS v
    FROM (SELECT p.doc_id, e.model, unnest(e.vector::FLOAT[]) AS v, unnest(range(384)) AS i
          FROM embeddings e JOIN paragraphs p USING (paragraph_id))
    GROUP BY ALL
)
GROUP BY doc_id, model;
COMMENT ON VIEW document_vectors IS 'Mean paragraph embedding per document (unique paragraphs only), for document similarity.';
COMMENT ON COLUMN document_vectors.doc_id IS 'Document id.';
COMMENT ON COLUMN document_vectors.model IS 'Embedding model.';
COMMENT ON COLUMN document_vectors.vector IS 'Mean of the document''s paragraph vectors.';

CREATE MACRO similar_documents(to_document, k := 10) AS TABLE
WITH q AS (SELECT vector, model FROM document_vectors WHERE doc_id = to_document LIMIT 1)
SELECT d.doc_id, d.title, d.published_on, d.publisher, array_cosine_similarity(v.vector, q.vector)::DOUBLE AS similarity
FROM q JOIN document_vectors v ON v.model = q.model AND v.doc_id <> to_document
JOIN documents d ON d.doc_id = v.doc_id
ORDER BY similarity DESC
LIMIT k;
COMMENT ON MACRO TABLE similar_documents IS 'Question 7: the k documents closest in meaning to a document (cosine of mean paragraph embeddings).';

CREATE VIEW duplicate_clusters AS
SELECT coalesce(duplicate_of, doc_id) AS cluster_doc_id,
       count(*) AS members,
       list(doc_id ORDER BY doc_id) AS member_doc_ids,
       list(DISTINCT duplicate_kind) FILTER (WHERE duplicate_kind IS NOT NULL) AS kinds,
       min(duplicate_similarity) AS min_similarity
FROM documents
GROUP BY 1
HAVING count(*) > 1;
COMMENT ON VIEW duplicate_clusters IS 'Question 7: exact and near-duplicate clusters, each named by its original document, with its members.';
COMMENT ON COLUMN duplicate_clusters.cluster_doc_id IS 'The original (first stored) document of the cluster.';
COMMENT ON COLUMN duplicate_clusters.members IS 'Documents in the cluster, the original included.';
COMMENT ON COLUMN duplicate_clusters.member_doc_ids IS 'doc_id of every member.';
COMMENT ON COLUMN duplicate_clusters.kinds IS 'Duplicate kinds present (exact, near).';
COMMENT ON COLUMN duplicate_clusters.min_similarity IS 'Lowest similarity of a member to the original (NULL: all exact).';

-- 8. Who said what ------------------------------------------------------------------

CREATE VIEW who_said_what AS
SELECT coalesce(q.speaker_name, q.speaker_text) AS speaker, e.label AS speaker_type, q.verb, q.kind, q.quote_text,
       d.title, d.published_on, d.publisher, q.doc_id, q.paragraph_id, q.speaker_entity_id
FROM quotes q JOIN documents d USING (doc_id) LEFT JOIN entities e ON e.entity_id = q.speaker_entity_id;
COMMENT ON VIEW who_said_what IS 'Question 8: quotations with their speaker (canonical name where resolved), reporting verb, paragraph and document.';
COMMENT ON COLUMN who_said_what.speaker IS 'Canonical speaker name, or the words used when unresolved.';
COMMENT ON COLUMN who_said_what.speaker_type IS 'Entity type of the resolved speaker (PERSON, ORG, GPE, ...).';
COMMENT ON COLUMN who_said_what.verb IS 'Reporting verb lemma.';
COMMENT ON COLUMN who_said_what.kind IS 'direct or reported.';
COMMENT ON COLUMN who_said_what.quote_text IS 'What was said.';
COMMENT ON COLUMN who_said_what.title IS 'Document title.';
COMMENT ON COLUMN who_said_what.published_on IS 'Publication date.';
COMMENT ON COLUMN who_said_what.publisher IS 'Publisher.';
COMMENT ON COLUMN who_said_what.doc_id IS 'Document id.';
COMMENT ON COLUMN who_said_what.paragraph_id IS 'Paragraph id.';
COMMENT ON COLUMN who_said_what.speaker_entity_id IS 'Speaker entity id (NULL if unresolved).';

-- 9. Lineage ---------------------------------------------------------------------------

CREATE VIEW paragraph_lineage AS
SELECT a.paragraph_id, a.stage, a.version, a.run_id, a.annotated_at, r.flow, r.started_at AS run_started_at, r.status AS run_status
FROM paragraph_annotations a LEFT JOIN runs r USING (run_id);
COMMENT ON VIEW paragraph_lineage IS 'Question 9: for each paragraph and stage, the run, model or taxonomy version that produced its annotations.';
COMMENT ON COLUMN paragraph_lineage.paragraph_id IS 'Paragraph id.';
COMMENT ON COLUMN paragraph_lineage.stage IS 'entities, embed, themes or quotes.';
COMMENT ON COLUMN paragraph_lineage.version IS 'Model and rules (entities, quotes), embedding model (embed) or taxonomy version (themes).';
COMMENT ON COLUMN paragraph_lineage.run_id IS 'Run that wrote the annotations.';
COMMENT ON COLUMN paragraph_lineage.annotated_at IS 'When they were written (UTC).';
COMMENT ON COLUMN paragraph_lineage.flow IS 'Flow of that run: ingest or backfill.';
COMMENT ON COLUMN paragraph_lineage.run_started_at IS 'When that run started (UTC).';
COMMENT ON COLUMN paragraph_lineage.run_status IS 'Status of that run.';
