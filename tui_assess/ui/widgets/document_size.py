"""The editor's document size, kept up to date per edit instead of recounted per key.

Textual's TextArea (8.2.8) works out the document's size from every line: its wrapped view's
`height` sums over all lines, and it is read once per line drawn (a keystroke redraws the
viewport: ~30 reads); the width of an unwrapped document is the widest line, measured again
after every edit. On a 10,000-line file that is most of a keystroke's cost. Here the height
is the length of a list the wrapped view already keeps, and line widths are remembered and
updated for the lines an edit touched.
"""

from __future__ import annotations

from textual._cells import cell_len
from textual.document._wrapped_document import WrappedDocument


class CountedWrappedDocument(WrappedDocument):
    """A WrappedDocument whose height is read from its own index of visual lines.

    `_offset_to_line_info` holds one entry per visual line (a document line plus one per
    wrap), and both `wrap` and `wrap_range` keep it in step: its length is the sum `height`
    computes.
    """

    @property
    def height(self) -> int:
        return len(self._offset_to_line_info)


def count_height(wrapped: WrappedDocument) -> None:
    """Make `wrapped` (just built by TextArea) answer `height` in constant time.

    TextArea builds its WrappedDocument itself, so the instance's class is swapped rather
    than the object rebuilt (building one wraps every line again). The subclass only adds
    a property: no state to set up.
    """
    wrapped.__class__ = CountedWrappedDocument


class LineWidths:
    """The cell width of every document line, tabs expanded, updated edit by edit."""

    def __init__(self) -> None:
        self._widths: list[int] | None = None
        self._tab_width = 0

    def reset(self) -> None:
        """Forget every width (a new document): the next `widest` measures them all."""
        self._widths = None

    def edited(self, lines: list[str], top: int, old_bottom: int, new_bottom: int) -> None:
        """Lines top..old_bottom (inclusive) were replaced by lines top..new_bottom."""
        if self._widths is None:
            return
        tab = self._tab_width
        self._widths[top : old_bottom + 1] = [
            cell_len(line.expandtabs(tab)) for line in lines[top : new_bottom + 1]
        ]

    def widest(self, lines: list[str], tab_width: int) -> int:
        """The width of the widest line: what `Document.get_size` computes, without the pass
        over every line."""
        if self._widths is None or tab_width != self._tab_width or len(self._widths) != len(lines):
            self._tab_width = tab_width
            self._widths = [cell_len(line.expandtabs(tab_width)) for line in lines]
        return max(self._widths, default=0)
