"""Static shapes of untrusted inference graphs: one rule per op, no TF run."""
