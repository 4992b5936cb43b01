"""Post-training (supervised fine-tuning) on the CPU: any llama GGUF's weights in numpy,
chat data with a loss mask, LoRA, and an export that llama.cpp runs."""
