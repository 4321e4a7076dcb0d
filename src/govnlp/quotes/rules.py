"""Word lists and the cheap pre-filter: data, digested into the stage version."""

from __future__ import annotations

import re

# Lemmas of verbs that introduce speech or a claim. "point" only counts with "out".
REPORTING_LEMMAS = frozenset({
    "say", "tell", "state", "note", "stress", "add", "urge", "warn", "emphasize", "emphasise", "explain",
    "comment", "underscore", "assert", "insist", "argue", "claim", "report", "write", "announce", "reiterate",
    "remark", "observe", "declare", "affirm", "acknowledge", "point", "caution", "predict", "contend", "reply",
    "respond", "recall", "underline", "highlight", "confirm", "maintain", "suggest",
})
# Verbs whose object is usually a noun ("highlighted the need"): only a clause makes them reporting.
CLAUSE_ONLY = frozenset({"highlight", "confirm", "maintain", "suggest", "announce", "underline", "recall", "report"})

# Paragraphs without a quote mark and without one of these words are never parsed.
PREFILTER = re.compile(
    r"[\"“”]|\b(?:say|says|said|saying|told|tell|tells|stat(?:e|es|ed|ing)|not(?:ed|es|ing)|stress\w*|add(?:ed|s|ing)|"
    r"urg\w+|warn\w*|emphasi[sz]\w*|explain\w*|comment\w*|underscor\w+|assert\w*|insist\w*|argu\w+|claim\w*|"
    r"report\w*|wr(?:ote|ites|iting)|announc\w+|reiterat\w+|remark\w*|observ\w+|declar\w+|affirm\w*|acknowledg\w+|"
    r"point(?:ed|s|ing)? out|caution\w*|predict\w*|contend\w*|repl\w+|respond\w*|recall\w*|underlin\w+|"
    r"highlight\w*|confirm\w*|maintain\w*|suggest\w*|according to)\b",
    re.IGNORECASE,
)

SPEAKER_LABELS = ("PERSON", "ORG", "GPE", "NORP")
NOT_SPEAKERS = frozenset({"i", "we", "you", "it", "they", "this", "these", "that", "which", "who"})
PRONOUNS = {"he": "PERSON", "she": "PERSON"}
MIN_DIRECT_WORDS = 4  # shorter quoted phrases are scare quotes, titles or fragments
MIN_REPORTED_WORDS = 3
PRONOUN_WINDOW = 2  # a pronoun looks for a PERSON in this and the previous N paragraphs
