"""Running a plan: apply (one function), the pool of rows side by side, one row, how rows are
re-read, the Outcome, and undo."""
