"""Command line: shared flag helpers, the trainer flags, quiet TF import."""
