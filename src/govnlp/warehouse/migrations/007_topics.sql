-- 007: emergent topics (the topics stage): clusters of paragraph vectors, labelled by their distinctive terms.
-- A full clustering replaces topics and paragraph_topics; topic_clusterings keeps every clustering's record.

CREATE TABLE topic_clusterings (
    clustering_id VARCHAR PRIMARY KEY,
    run_id VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    parameters JSON NOT NULL,
    embed_model VARCHAR NOT NULL,
    paragraphs INTEGER NOT NULL,
    eligible INTEGER NOT NULL,
    assigned INTEGER NOT NULL,
    topics INTEGER NOT NULL,
    seconds DOUBLE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE topic_clusterings IS 'Every full clustering of the paragraph vectors (the topics stage): method, parameters, sizes; the newest one is current.';
COMMENT ON COLUMN topic_clusterings.clustering_id IS 'Id of the clustering; topics.clustering_id of its topics.';
COMMENT ON COLUMN topic_clusterings.run_id IS 'Run that clustered (runs.run_id).';
COMMENT ON COLUMN topic_clusterings.version IS 'Method version plus a hash of the parameters and the embedding model; another version re-clusters.';
COMMENT ON COLUMN topic_clusterings.method IS 'kmeans-merge (MiniBatchKMeans, close centroids merged) or hdbscan.';
COMMENT ON COLUMN topic_clusterings.parameters IS 'The clustering parameters (min_size, merge_distance, min_similarity, seed, ...).';
COMMENT ON COLUMN topic_clusterings.embed_model IS 'Embedding model whose vectors were clustered.';
COMMENT ON COLUMN topic_clusterings.paragraphs IS 'Canonical embedded paragraphs at clustering time.';
COMMENT ON COLUMN topic_clusterings.eligible IS 'Of those, the paragraphs long enough to be clustered (topic_min_words).';
COMMENT ON COLUMN topic_clusterings.assigned IS 'Paragraphs given a topic (the rest are too far from every topic centroid).';
COMMENT ON COLUMN topic_clusterings.topics IS 'Topics found.';
COMMENT ON COLUMN topic_clusterings.seconds IS 'Time to cluster and label.';
COMMENT ON COLUMN topic_clusterings.created_at IS 'UTC time of the clustering.';

CREATE TABLE topics (
    topic_id VARCHAR PRIMARY KEY,
    clustering_id VARCHAR NOT NULL,
    rank INTEGER NOT NULL,
    label VARCHAR NOT NULL,
    terms VARCHAR[] NOT NULL,
    term_weights FLOAT[] NOT NULL,
    size INTEGER NOT NULL,
    central_paragraph_id VARCHAR NOT NULL,
    coherence DOUBLE,
    centroid FLOAT[] NOT NULL
);
COMMENT ON TABLE topics IS 'Topics of the current clustering: what groups of paragraphs talk about, found without a taxonomy.';
COMMENT ON COLUMN topics.topic_id IS 'clustering_id, a dash and the zero-padded rank.';
COMMENT ON COLUMN topics.clustering_id IS 'Clustering that found the topic (topic_clusterings.clustering_id).';
COMMENT ON COLUMN topics.rank IS '0 for the largest topic at clustering time, then by decreasing size.';
COMMENT ON COLUMN topics.label IS 'The three most distinctive terms, comma-separated.';
COMMENT ON COLUMN topics.terms IS 'Up to ten most distinctive words and two-word phrases (class-based TF-IDF over the topic''s paragraphs).';
COMMENT ON COLUMN topics.term_weights IS 'c-TF-IDF weight of each term, in the same order.';
COMMENT ON COLUMN topics.size IS 'Paragraphs in the topic (clustered plus those assigned since).';
COMMENT ON COLUMN topics.central_paragraph_id IS 'The member paragraph closest to the topic centroid: read it to see what the topic is.';
COMMENT ON COLUMN topics.coherence IS 'NPMI of the label terms over all clustered paragraphs (-1..1; higher: the terms occur together).';
COMMENT ON COLUMN topics.centroid IS 'Unit mean vector of the members; new paragraphs join the nearest centroid.';

CREATE TABLE paragraph_topics (
    paragraph_id VARCHAR PRIMARY KEY,
    topic_id VARCHAR NOT NULL,
    score FLOAT NOT NULL,
    assigned_by VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL
);
COMMENT ON TABLE paragraph_topics IS 'The topic of each canonical paragraph that has one (at most one; paragraphs far from every topic have no row).';
COMMENT ON COLUMN paragraph_topics.paragraph_id IS 'Canonical paragraph (paragraphs.paragraph_id).';
COMMENT ON COLUMN paragraph_topics.topic_id IS 'Topic (topics.topic_id).';
COMMENT ON COLUMN paragraph_topics.score IS 'Cosine similarity of the paragraph to the topic centroid.';
COMMENT ON COLUMN paragraph_topics.assigned_by IS 'clustering (member when the topics were found) or nearest (a later paragraph put in the nearest topic).';
COMMENT ON COLUMN paragraph_topics.run_id IS 'Run that wrote the row.';

-- Analysts' views and macros -------------------------------------------------------

CREATE VIEW topic_trends AS
WITH canonical AS (
    SELECT p.paragraph_id, f.month, f.publisher
    FROM paragraphs p JOIN document_facts f USING (doc_id)
    WHERE p.duplicate_of IS NULL AND NOT f.is_duplicate
      AND EXISTS (SELECT 1 FROM paragraph_annotations a WHERE a.paragraph_id = p.paragraph_id AND a.stage = 'topics')
), totals AS (
    SELECT month, publisher, count(*) AS all_paragraphs FROM canonical GROUP BY ALL
)
SELECT c.month, c.publisher, t.topic_id, t.label AS topic, count(*) AS paragraphs, any_value(tt.all_paragraphs) AS all_paragraphs,
       count(*) / any_value(tt.all_paragraphs) AS share
FROM canonical c
JOIN paragraph_topics pt USING (paragraph_id)
JOIN topics t USING (topic_id)
JOIN totals tt ON tt.month IS NOT DISTINCT FROM c.month AND tt.publisher IS NOT DISTINCT FROM c.publisher
GROUP BY c.month, c.publisher, t.topic_id, t.label;
COMMENT ON VIEW topic_trends IS 'Share of paragraphs in each topic per month and publisher (unique paragraphs of unique documents).';
COMMENT ON COLUMN topic_trends.month IS 'First day of the publication month (NULL: undated documents).';
COMMENT ON COLUMN topic_trends.publisher IS 'Publisher.';
COMMENT ON COLUMN topic_trends.topic_id IS 'Topic id (topics.topic_id).';
COMMENT ON COLUMN topic_trends.topic IS 'Topic label (its three most distinctive terms).';
COMMENT ON COLUMN topic_trends.paragraphs IS 'Paragraphs in the topic in that month and publisher.';
COMMENT ON COLUMN topic_trends.all_paragraphs IS 'All paragraphs the topics stage has seen in that month and publisher, with a topic or not.';
COMMENT ON COLUMN topic_trends.share IS 'paragraphs / all_paragraphs.';

CREATE MACRO emerging_topics(since, until, n := 10) AS TABLE
WITH bounds AS (
    SELECT since::DATE AS start_now, until::DATE AS stop_now, (since::DATE - (until::DATE - since::DATE)::INTEGER)::DATE AS start_before
), seen AS (
    SELECT p.paragraph_id, d.published_on
    FROM paragraphs p JOIN documents d USING (doc_id)
    WHERE p.duplicate_of IS NULL AND d.duplicate_of IS NULL AND d.published_on IS NOT NULL
      AND EXISTS (SELECT 1 FROM paragraph_annotations a WHERE a.paragraph_id = p.paragraph_id AND a.stage = 'topics')
), periods AS (
    SELECT s.paragraph_id, s.published_on >= b.start_now AS is_now
    FROM seen s, bounds b
    WHERE s.published_on >= b.start_before AND s.published_on < b.stop_now
), totals AS (
    SELECT count(*) FILTER (WHERE is_now) AS all_now, count(*) FILTER (WHERE NOT is_now) AS all_before FROM periods
), per_topic AS (
    SELECT pt.topic_id, count(*) FILTER (WHERE is_now) AS now, count(*) FILTER (WHERE NOT is_now) AS before
    FROM periods JOIN paragraph_topics pt USING (paragraph_id) GROUP BY pt.topic_id
)
SELECT t.topic_id, t.label AS topic, t.terms, p.now AS paragraphs_now, p.before AS paragraphs_before,
       round(p.now / nullif(tt.all_now, 0), 4) AS share_now,
       round(p.before / nullif(tt.all_before, 0), 4) AS share_before,
       round(coalesce(p.now / nullif(tt.all_now, 0), 0) - coalesce(p.before / nullif(tt.all_before, 0), 0), 4) AS share_change
FROM per_topic p JOIN topics t USING (topic_id), totals tt
WHERE p.now > 0
ORDER BY share_change DESC, paragraphs_now DESC, t.topic_id
LIMIT n;
COMMENT ON MACRO TABLE emerging_topics IS 'Topics whose share of paragraphs rose most from the previous period of equal length to [since, until).';

CREATE MACRO topic_documents(topic, n := 10) AS TABLE
SELECT d.doc_id, d.title, d.published_on, d.publisher, count(*) AS topic_paragraphs,
       round(count(*) / any_value(d.paragraph_count), 4) AS paragraph_share, max(pt.score)::DOUBLE AS best_score
FROM paragraph_topics pt JOIN topics t USING (topic_id) JOIN paragraphs p USING (paragraph_id) JOIN documents d ON d.doc_id = p.doc_id
WHERE CAST(topic AS VARCHAR) IN (t.topic_id, t.label, CAST(t.rank AS VARCHAR))
GROUP BY d.doc_id, d.title, d.published_on, d.publisher
ORDER BY topic_paragraphs DESC, paragraph_share DESC, d.doc_id
LIMIT n;
COMMENT ON MACRO TABLE topic_documents IS 'The documents with most paragraphs in a topic (topic_id, label or rank in the current clustering).';
