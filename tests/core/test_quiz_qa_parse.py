from __future__ import annotations

import pytest

from desktop.core.quiz.qa_parse import parse_qa_pairs, qa_generation_messages

CASES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "the requested format": (
        "Q: When was the tower finished?\nA: 1889.\n\nQ: Who designed it?\nA: Gustave Eiffel",
        [("When was the tower finished?", "1889"), ("Who designed it?", "Gustave Eiffel")],
    ),
    "numbering and prose around": (
        "Sure! Here are some questions:\n\n"
        "1. What year was the tower built?\n   Answer: 1889\n"
        "2) Who commanded Apollo 11?\n   Answer: Neil Armstrong.\n\n"
        "I hope these help!",
        [
            ("What year was the tower built?", "1889"),
            ("Who commanded Apollo 11?", "Neil Armstrong"),
        ],
    ),
    "numbered labels": (
        "Q1: What is the capital of Velmora?\nA1: Port Sorrel\n"
        "Q2. How tall is Mount Carrow?\nA2: 1,047 metres.",
        [
            ("What is the capital of Velmora?", "Port Sorrel"),
            ("How tall is Mount Carrow?", "1,047 metres"),
        ],
    ),
    "bold labels": (
        "**Q:** When did Apollo 11 launch?\n**A:** 16 July 1969\n\n"
        "**Question 2:** Who was the commander?\n**Answer:** **Neil Armstrong**",
        [
            ("When did Apollo 11 launch?", "16 July 1969"),
            ("Who was the commander?", "Neil Armstrong"),
        ],
    ),
    "answers on the question line": (
        "Q: Where is the tower? A: Paris.\n"
        "Q: How many steps lead to the second floor? Answer: 674\n"
        "- Q: Who built it? (Answer: Gustave Eiffel)",
        [
            ("Where is the tower?", "Paris"),
            ("How many steps lead to the second floor?", "674"),
            ("Who built it?", "Gustave Eiffel"),
        ],
    ),
    "questions without answers are dropped": (
        "Q: What is unanswered?\nQ: Who discovered radium?\nA: Marie Curie\n"
        "Q: Where was she born?\n\nThat's all for now.",
        [("Who discovered radium?", "Marie Curie")],
    ),
    "a JSON list in a code fence": (
        'Here you go:\n```json\n[{"question": "Who discovered polonium?", "answer": "Marie Curie"},'
        ' {"Question": "When was she born?", "Answer": 1867}, {"question": "No answer?"}]\n```',
        [("Who discovered polonium?", "Marie Curie"), ("When was she born?", "1867")],
    ),
    "JSON lines with short keys": (
        '{"q": "Who discovered polonium?", "a": "Marie Curie."}\n'
        '{"q": "In what city?", "a": "Paris"}',
        [("Who discovered polonium?", "Marie Curie"), ("In what city?", "Paris")],
    ),
    "JSON with trailing commas": (
        '[\n  {\n    "question": "Who landed first?",\n    "answer": "Neil Armstrong",\n  },\n'
        '  {\n    "question": "Which sea?",\n    "answer": "Sea of Tranquility"\n  },\n]',
        [("Who landed first?", "Neil Armstrong"), ("Which sea?", "Sea of Tranquility")],
    ),
    "a markdown table": (
        "| # | Question | Answer |\n|---|:---|---:|\n"
        "| 1 | Who discovered radium? | **Marie Curie** |\n| 2 | Where was she born? | Warsaw. |",
        [("Who discovered radium?", "Marie Curie"), ("Where was she born?", "Warsaw")],
    ),
    "a table without a question header": (
        "| Who discovered radium? | Marie Curie |\n| Where was she born? | Warsaw |",
        [("Who discovered radium?", "Marie Curie"), ("Where was she born?", "Warsaw")],
    ),
    "duplicates and whitespace": (
        "Q:   Who discovered radium?  \nA:   Marie Curie  \n"
        "Q: who discovered  radium\nA: Somebody else\nQ: Where?\nA: Warsaw",
        [("Who discovered radium?", "Marie Curie"), ("Where?", "Warsaw")],
    ),
    "labels on their own lines": (
        "Question 1:\nWhat is the capital of Velmora?\nAnswer:\nPort Sorrel\n",
        [("What is the capital of Velmora?", "Port Sorrel")],
    ),
    "bullets, headings and initials": (
        "### Q1. Who?\n- A: Curie\n* Q: Where was the plaque left?\n  A: On the Moon\n"
        "• Q: Which country planted the flag?\n  A: The U.S.",
        [
            ("Who?", "Curie"),
            ("Where was the plaque left?", "On the Moon"),
            ("Which country planted the flag?", "The U.S."),
        ],
    ),
    "an unlabelled answer right after its question": (
        "Q: Who built the tower?\nGustave Eiffel\n\nQ: Anything else?\n\nWant more?\nLet me know.",
        [("Who built the tower?", "Gustave Eiffel")],
    ),
    "numbered questions with bare answers": (
        "1. Who built the tower?\nGustave Eiffel\n2. When was it finished?\n1889\n\n"
        "Would you like more questions?\nJust ask.",
        [("Who built the tower?", "Gustave Eiffel"), ("When was it finished?", "1889")],
    ),
}


@pytest.mark.parametrize(("text", "expected"), CASES.values(), ids=CASES.keys())
def test_parses_malformed_model_output(text: str, expected: list[tuple[str, str]]) -> None:
    pairs = parse_qa_pairs(text)
    assert [(p.question, p.answer) for p in pairs] == expected
    assert {p.source for p in pairs} <= {"model"}


@pytest.mark.parametrize(
    "text",
    ["", "   \n\n", "I'm sorry, I can't write questions about this article.", "[1, 2, 3]", "{}"],
)
def test_output_without_pairs_gives_nothing(text: str) -> None:
    assert parse_qa_pairs(text) == []


def test_generation_prompt_asks_for_the_format_the_parser_reads() -> None:
    article = "The Eiffel Tower was finished in 1889."
    messages = qa_generation_messages(article, count=5)
    assert [m.role for m in messages] == ["system", "user"]
    user = messages[1].content
    assert "5 questions" in user and article in user
    assert "Q: <question>\nA: <answer>" in user
    reply = "Q: When was the Eiffel Tower finished?\nA: 1889"
    assert [(p.question, p.answer) for p in parse_qa_pairs(reply)] == [
        ("When was the Eiffel Tower finished?", "1889")
    ]


def test_a_long_article_is_cut_at_a_sentence_end() -> None:
    article = "Short sentence here. " * 1000
    user = qa_generation_messages(article, max_chars=500)[1].content
    body = user.split('"""')[1].strip()
    assert len(body) <= 500 and body.endswith("here.")
    assert len(qa_generation_messages(article, max_chars=None)[1].content) > len(article)
