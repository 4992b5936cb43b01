"""What a GGUF model is: its header read without trusting it, checks before llama.cpp sees it,
base or instruct, the local library, the writer the tests and exports use, and what this
computer offers it (RAM, threads)."""
