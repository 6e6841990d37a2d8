"""Training: config, schedules, train graph, loops, hooks, evaluation."""
