"""The Models tab: find and download GGUF models, and manage the local library."""
