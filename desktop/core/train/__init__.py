"""Training a tiny llama-architecture language model from scratch, in plain numpy."""
