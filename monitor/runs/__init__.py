"""One pass's life: plan, start and conclude, in one process, in crawler processes, over Redis."""
