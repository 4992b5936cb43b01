"""Text the way a model sees it: tokenizers (tiktoken, GGUF, trained), token spans for
display, counts, and chat formats. Qt-free; tiktoken is imported when first used."""
