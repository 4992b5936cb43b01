"""Deep Dive Lab: see how an LLM assistant is made, step by step, on a laptop CPU."""

__version__ = "0.1.0"
