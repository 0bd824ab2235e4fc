"""Clinical cases: one de-identified patient per case, with structured outcome measures per session."""
