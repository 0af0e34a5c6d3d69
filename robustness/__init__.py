"""Measuring models on original and perturbed problems, and auditing published sets."""
