"""Example texts that show why tokens explain odd model behaviour."""

from __future__ import annotations

EXAMPLES: dict[str, str] = {
    "How many r's in raspberry?": (
        "How many r's are in the word raspberry?\n\n"
        "raspberry  →  r-a-s-p-b-e-r-r-y\n"
        "The model never sees letters, only tokens: look how 'raspberry' is split."
    ),
    "Numbers and arithmetic": (
        "What is 12345 + 67890? And 9.11 vs 9.9?\n"
        "1234567890 12 345 6789 1,000,000 3.14159265358979\n"
        "How are numbers cut? The note under the counts says what this tokenizer does; "
        "the model does its arithmetic on those pieces, not on digits."
    ),
    "Code with indentation": (
        "def fizzbuzz(n):\n"
        "    for i in range(1, n + 1):\n"
        "        if i % 15 == 0:\n"
        "            print('FizzBuzz')\n"
        "        elif i % 3 == 0:\n"
        "            print('Fizz')\n"
        "\t\t# a tab-indented comment\n"
    ),
    "One sentence, several languages": (
        "The weather is nice today.\n"
        "Il fait beau aujourd'hui.\n"
        "Das Wetter ist heute schön.\n"
        "今日はいい天気ですね。\n"
        "Сегодня хорошая погода.\n"
        "आज मौसम अच्छा है।\n"
        "Non-English text often costs more tokens for the same meaning."
    ),
    "Emoji": (
        "I 💙 tokens 🍓🍓🍓\n"
        "Family: 👩‍👩‍👧‍👦 (one emoji, many code points)\n"
        "Flags: 🇫🇷 🇯🇵 — an emoji can split in the middle of its bytes."
    ),
    "Spelling and capitals": (
        "hello Hello HELLO hElLo\n"
        " hello  hello\n"
        "Capitals and a leading space make different tokens for the 'same' word."
    ),
}
