-- 006: how much of the publication date a document states (issue 14), and
-- the document-type vocabulary of the labelling guide (benchmarks/gold/DOCUMENTS.md).

ALTER TABLE documents ADD COLUMN date_precision VARCHAR;
COMMENT ON COLUMN documents.date_precision IS 'day, month or year: how much of published_on the document states; a month-only date ("June 2019") is stored as the month''s first day with month here. NULL when there is no date (or for documents stored before migration 006).';
COMMENT ON COLUMN documents.published_on IS 'Publication date the document states (see date_precision; metadata->>''date_source'' says where it was found); NULL when it gives none. A copyright year, a footer or a date inside the body is never used.';
