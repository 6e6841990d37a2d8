"""Log directories: checkpoint state, saver, lock, disk-full handling."""
