"""Terminal output with rich. Besides the CLI, only the modules of this package import rich."""
