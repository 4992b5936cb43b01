"""Documents in a conversation: read safely, cut into passages, chosen with BM25 when
they do not fit the context, and searched as a local collection."""
