-- 006: how much of the publication date a document states (issue 14), and
-- the document-type vocabulary of the labelling guide (benchmarks/gold/DOCUMENTS.md).

ALTER TABLE documents ADD COLUMN date_precision VARCHAR;
COMMENT ON COLUMN documents.date_precision IS 'day, month or year: how much of published_on the document states; a month-only date ("June 2019") is stored as the month''s first day with month here. NULL when there is no date (or for documents stored before migration 006).';
COMMENT ON COLUMN documents.published_on IS 'Publication date the document states (see date_precision; metadata->>''date_source'' says where it was found); NULL when it gives none. A copyright year, a footer or a date inside the body is never used.';
COMMENT ON COLUMN documents.doc_type IS 'strategy, law_or_order, resolution, press_release, statement, speech, report, news, op_ed, fact_sheet, q_and_a or other (benchmarks/gold/DOCUMENTS.md defines each); NULL when no rule recognises the document (metadata->>''doc_type_rule'' says which rule decided). Documents stored before migration 006 keep the older labels (news, speech, statement, op-ed, press_qa, policy) until re-ingested.';
COMMENT ON COLUMN document_facts.doc_type IS 'Document type (strategy, law_or_order, press_release, statement, speech, report, news, op_ed, fact_sheet, q_and_a, ...; NULL when unknown).';
