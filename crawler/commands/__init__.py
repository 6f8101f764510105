"""Command groups of the `backcheck` CLI, one module each."""
