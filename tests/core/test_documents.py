"""Documents: hostile files refused with a sentence, passages with ids, BM25 choosing the
passages that answer the question when the whole text does not fit, the search collection
over the Quiz articles and a folder, and the sources an answer cites."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.chat.generation import ChatMessage
from desktop.core.documents.bm25 import PassageIndex, words
from desktop.core.documents.citations import cited_passages
from desktop.core.documents.collection import CollectionSources, build_collection
from desktop.core.documents.document import Document, DocumentError, read_document
from desktop.core.documents.fitting import fit_documents
from desktop.core.documents.in_prompt import HEADER, all_passages, chosen_passages
from desktop.core.documents.passages import HARD_LIMIT, TARGET_CHARS, document_key, split_passages
from desktop.core.storage.conversations import ConversationStore

FILLER = [f"Paragraph {n} is about gardening, soil and the weather of spring." for n in range(40)]
FACT = "The lighthouse of Karrow was built in 1873 by the engineer Ada Brennet."


def long_document() -> Document:
    text = "\n\n".join([*FILLER[:23], FACT, *FILLER[23:]])
    return Document("notes.md", "Notes", text)


def test_hostile_files_get_a_sentence(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_bytes(b"a" * 2000)
    (tmp_path / "binary.txt").write_bytes(b"\x7fELF\x00\x01\x02" * 100)
    (tmp_path / "noise.md").write_bytes(bytes(range(1, 32)) * 20)
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.7")
    for name, words_in in [
        ("big.txt", "larger than"),
        ("binary.txt", "binary"),
        ("noise.md", "binary"),
        ("scan.pdf", "PDF"),
        ("missing.txt", "no such file"),
    ]:
        with pytest.raises(DocumentError, match=words_in):
            read_document(tmp_path / name, max_bytes=1000)


def test_a_readable_document_keeps_its_paragraphs(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        f"<html><title>Karrow</title><script>x()</script><p>{FACT}</p><p>Second.</p></html>"
    )
    (tmp_path / "latin1.txt").write_bytes("Café crème, déjà vu.".encode("cp1252"))
    page = read_document(tmp_path / "page.html")
    assert page.title == "Karrow" and FACT in page.text and "x()" not in page.text
    assert "Café crème" in read_document(tmp_path / "latin1.txt").text


def test_passages_hold_whole_paragraphs_and_cut_endless_ones() -> None:
    passages = split_passages("\n\n".join(FILLER) + "\n\n" + "z" * 4000, "notes", "N", "n.md")
    assert [p.id for p in passages[:2]] == ["notes:1", "notes:2"]
    assert all(len(p.text) <= max(TARGET_CHARS, HARD_LIMIT) for p in passages)
    assert sum(p.text.count("Paragraph") for p in passages) == 40  # nothing lost or doubled
    assert document_key("Velmora Notes.md", ["velmora_notes"]) == "velmora_notes_2"


def test_bm25_finds_the_passage_that_answers() -> None:
    index = PassageIndex(all_passages([long_document()]))
    best = index.rank("Who built the Karrow lighthouse?")[0]
    assert FACT in best.passage.text
    assert index.rank("the of and") == []  # stop words alone match nothing
    split = words("How many r's in 3 raspberries?")
    assert "in" not in split and {"r", "3", "raspberries"} <= set(split)


def test_chosen_passages_fit_the_budget_and_say_so() -> None:
    chosen = chosen_passages([long_document()], "When was the lighthouse built?", 900)
    assert FACT in chosen.block and chosen.block.startswith(HEADER)
    assert len(chosen.block) <= 1000 and not chosen.whole
    assert chosen.note.startswith(f"{len(chosen.chosen)} of {chosen.total} passages of notes.md")
    assert "chosen for “When was the lighthouse built?” (BM25)" in chosen.note
    assert f"[{chosen.chosen[0].id}]" in chosen.block


def test_documents_go_whole_when_they_fit_and_as_passages_when_not() -> None:
    def count(messages: list[ChatMessage]) -> int:  # a word a token
        return sum(len(m.content.split()) for m in messages)

    question = [ChatMessage("user", "Who built the lighthouse of Karrow?")]
    placed, whole = fit_documents(question, [long_document()], count, 8192, 256)
    assert (
        whole is not None
        and whole.whole
        and placed[-1].content.endswith("Question: Who built the lighthouse of Karrow?")
    )
    placed, chosen = fit_documents(question, [long_document()], count, 300, 64)
    assert chosen is not None and not chosen.whole and FACT in placed[-1].content
    assert count(placed) <= 300 - 64
    assert "Paragraph 0 " not in placed[-1].content  # the opening was not what was asked


def test_the_collection_searches_articles_and_a_folder(tmp_path: Path) -> None:
    (tmp_path / "karrow.md").write_text(f"# Karrow\n\n{FACT}\n")
    (tmp_path / "broken.txt").write_bytes(b"\x00\x01" * 50)
    collection = build_collection(CollectionSources(folders=(str(tmp_path),)))
    assert collection.search("lighthouse engineer")[0].passage.id == "karrow:1"
    assert collection.search("Apollo 11 moon landing")[0].passage.source == "apollo_11.md"
    assert any("broken.txt" in p for p in collection.problems)


def test_only_passages_shown_to_the_model_count_as_sources() -> None:
    known = [{"id": "velmora:2", "title": "Velmora"}, {"id": "apollo_11:1", "title": "A"}]
    answer = "It has 4,000 people [velmora:2], founded [velmora:9] (made up)."
    assert cited_passages(answer, known) == [known[0]]


def test_documents_belong_to_their_conversation(tmp_path: Path) -> None:
    with ConversationStore(tmp_path / "db.sqlite3") as store:
        first = store.create_conversation()
        second = store.create_conversation()
        kept = store.documents.add(first.id, long_document())
        assert store.documents.list(first.id) == [kept] and store.documents.list(second.id) == []
        store.documents.remove(kept.id)
        assert store.documents.list(first.id) == []
