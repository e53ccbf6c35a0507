"""Edge cases from a hostile review of the POS reader, check and discover: each module
reproduces one finding (its docstring says which) against an in-process POS."""
