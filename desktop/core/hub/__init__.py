"""The Hugging Face Hub, seen from a laptop: search, a repository's GGUF files, downloads.

Qt-free. `huggingface_hub` is imported inside the functions that call the Hub, so the
window opens without it.
"""
