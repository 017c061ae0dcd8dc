"""tui-assess: a terminal coding-assessment environment for backend engineers."""

__version__ = "0.1.0"
