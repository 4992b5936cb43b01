from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.quiz.articles import Article, ArticleError, bundled_articles, load_article


def test_bundled_articles_load_sorted_and_include_invented_ones() -> None:
    articles = bundled_articles()
    assert len(articles) >= 4
    titles = [a.title for a in articles]
    assert titles == sorted(titles, key=str.casefold)
    for article in articles:
        assert article.path is not None and article.path.is_file()
        assert article.title and not article.title.startswith("#")
        words = len(article.text.split())
        assert 200 <= words <= 500, (article.title, words)
        assert "<!--" not in article.text and "**" not in article.text
        assert article.text.split("\n\n")[0] != article.title  # the heading became the title
    invented = {a.title for a in articles if a.invented}
    assert len(invented) >= 1
    assert "Apollo 11" in titles and "Apollo 11" not in invented


def test_invented_articles_do_not_say_so() -> None:
    for article in bundled_articles():
        lowered = article.text.lower()
        for giveaway in ("fictional", "invented", "imaginary", "made up", "does not exist"):
            assert giveaway not in lowered, (article.title, giveaway)


def test_markdown_markup_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "tower.md"
    path.write_text(
        "# The *Tall* Tower\n"
        "<!-- invented -->\n\n"
        "It was **finished** in 1889 by [Gustave Eiffel](https://example.org/eiffel)\n"
        "and _painted_ brown; see `snake_case` and ![a photo](tower.png).\n\n"
        "<!-- a note\nover two lines -->\n"
        "## Facts\n\n"
        "- It has **three** levels.\n"
        "- It is in ~~London~~ Paris &amp; France.\n\n"
        "```python\nprint('code is not prose')\n```\n\n"
        "> Quoted text.\n\n"
        "[ref]: https://example.org\n",
        encoding="utf-8",
    )
    article = load_article(path)
    assert article == Article(
        title="The Tall Tower",
        text=(
            "It was finished in 1889 by Gustave Eiffel and painted brown; "
            "see snake_case and a photo.\n\n"
            "Facts\n\n"
            "It has three levels.\n\n"
            "It is in London Paris & France.\n\n"
            "Quoted text."
        ),
        path=path,
        invented=True,
    )


def test_markdown_without_heading_takes_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "water_cycle-notes.md"
    path.write_text("Water evaporates.\nIt rains.\n", encoding="utf-8")
    article = load_article(path)
    assert article.title == "Water cycle notes"
    assert article.text == "Water evaporates. It rains."
    assert not article.invented


def test_setext_heading_is_the_title(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("Moon Landing\n============\n\nIt happened in 1969.\n", encoding="utf-8")
    article = load_article(path)
    assert (article.title, article.text) == ("Moon Landing", "It happened in 1969.")


def test_html_drops_scripts_and_navigation_and_keeps_paragraphs(tmp_path: Path) -> None:
    path = tmp_path / "page.HTML"
    path.write_text(
        "<!DOCTYPE html><html><head><title>Curie - Encyclopedia</title>"
        "<style>p { color: red }</style><script>var x = 1;</script></head><body>"
        "<nav><a href='/'>Home</a> | <a href='/about'>About</a></nav>"
        "<h1>Marie  Curie</h1>"
        "<p>She was born in\n   Warsaw in 1867.</p>"
        "<p>She won <b>two</b> Nobel&nbsp;Prizes &amp; more.</p>"
        "<ul><li>Polonium</li><li>Radium</li></ul>"
        "<footer>Copyright</footer></body></html>",
        encoding="utf-8",
    )
    article = load_article(path)
    assert article.title == "Marie Curie"
    assert article.text == (
        "She was born in Warsaw in 1867.\n\n"
        "She won two Nobel Prizes & more.\n\n"  # a no-break space is a space
        "Polonium\n\nRadium\n\nCopyright"
    )


def test_html_title_falls_back_to_the_title_element(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_text("<html><head><title>The Water Cycle</title><body><p>Rain falls.", "utf-8")
    assert load_article(path) == Article("The Water Cycle", "Rain falls.", path, False)


def test_text_file_keeps_paragraphs_and_reads_windows_encodings(tmp_path: Path) -> None:
    path = tmp_path / "moon_landing.txt"
    path.write_bytes(
        "<!-- invented -->\r\nCaf\xe9 on the Moon.\r\n\r\n\r\nSecond one.".encode("cp1252")
    )
    article = load_article(path)
    assert article == Article("Moon landing", "Café on the Moon.\n\nSecond one.", path, True)

    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbfHello there.")
    assert load_article(bom).text == "Hello there."

    utf16 = tmp_path / "notepad.txt"
    utf16.write_bytes("Żółw — turtle.".encode("utf-16"))
    assert load_article(utf16).text == "Żółw — turtle."


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.md", None, "no such file"),
        ("empty.md", b"", "has no text"),
        ("blank.txt", b"  \n\n\t\n", "has no text"),
        ("only-heading.md", b"# Title\n<!-- invented -->\n", "has no text"),
        ("empty.html", b"<html><script>alert(1)</script></html>", "has no text"),
        ("binary.txt", b"GGUF\x00\x00\x01\x02" * 10, "binary"),
        ("controls.txt", bytes(range(1, 32)) * 20, "binary"),
        ("tower.pdf", b"%PDF-1.4", "unsupported file type"),
    ],
)
def test_unusable_files_raise_article_error(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ArticleError, match=message) as caught:
        load_article(path)
    assert isinstance(caught.value, ValueError)
    assert name in str(caught.value)


def test_a_folder_and_a_huge_file_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "folder.md"
    folder.mkdir()
    with pytest.raises(ArticleError, match="not a file"):
        load_article(folder)
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"word " * (2 * 1024 * 1024 // 5 + 1))
    with pytest.raises(ArticleError, match="2 MB"):
        load_article(huge)
