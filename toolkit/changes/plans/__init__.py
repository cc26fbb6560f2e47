"""Plans: the Plan, its builders, the sources they are given, tables, and plan records."""
