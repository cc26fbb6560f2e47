"""The journal: the evidence of a run (records, the file and its chain, the lock, writing,
reading and resuming, and what an undo writes in the journal it undoes)."""
