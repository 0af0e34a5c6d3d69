"""The MMOS set builder, path sampling and supervised fine-tuning."""
