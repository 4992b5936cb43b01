"""The hallucination quiz (Llama 3 paper §4.3.6): articles → question/answer pairs → ask the
model closed and open book → grade → verdicts → a training set that teaches "I don't know"."""
