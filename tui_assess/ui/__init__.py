"""The Textual user interface. Nothing outside ui/ imports from here."""
