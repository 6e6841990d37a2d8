"""Serving: checked .meta graphs, freezing, Predictor, SavedModel export."""
