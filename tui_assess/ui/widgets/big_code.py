"""BigCode: a code (a receipt) in large type, easy to read out across a room.

A 5x5 pixel font of the code alphabet (digits and Crockford's capitals), drawn with half
blocks, so each character is 5 columns by 3 rows. Glyphs that small fonts confuse are kept
apart: 0 has a slash (D and Q do not), 5 has a flat top (S does not), 2 a round one (Z does
not). The code is also given in plain text below it (for screen readers and copying).
"""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

_FONT = {
    "0": (".###.", "#..##", "#.#.#", "##..#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "..##.", ".#...", "#####"),
    "3": ("####.", "....#", ".###.", "....#", "####."),
    "4": ("#..#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "####."),
    "6": (".###.", "#....", "####.", "#...#", ".###."),
    "7": ("#####", "...#.", "..#..", ".#...", ".#..."),
    "8": (".###.", "#...#", ".###.", "#...#", ".###."),
    "9": (".###.", "#...#", ".####", "....#", ".###."),
    "A": (".###.", "#...#", "#####", "#...#", "#...#"),
    "B": ("####.", "#...#", "####.", "#...#", "####."),
    "C": (".####", "#....", "#....", "#....", ".####"),
    "D": ("####.", "#...#", "#...#", "#...#", "####."),
    "E": ("#####", "#....", "####.", "#....", "#####"),
    "F": ("#####", "#....", "####.", "#....", "#...."),
    "G": (".####", "#....", "#..##", "#...#", ".###."),
    "H": ("#...#", "#...#", "#####", "#...#", "#...#"),
    "J": ("..###", "...#.", "...#.", "#..#.", ".##.."),
    "K": ("#..#.", "#.#..", "##...", "#.#..", "#..#."),
    "M": ("#...#", "##.##", "#.#.#", "#...#", "#...#"),
    "N": ("#...#", "##..#", "#.#.#", "#..##", "#...#"),
    "P": ("####.", "#...#", "####.", "#....", "#...."),
    "Q": (".###.", "#...#", "#.#.#", "#..#.", ".##.#"),
    "R": ("####.", "#...#", "####.", "#..#.", "#...#"),
    "S": (".####", "#....", ".###.", "....#", "####."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#.."),
    "V": ("#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#.#.#", "##.##", "#...#"),
    "X": ("#...#", ".#.#.", "..#..", ".#.#.", "#...#"),
    "Y": ("#...#", ".#.#.", "..#..", "..#..", "..#.."),
    "Z": ("#####", "...#.", "..#..", ".#...", "#####"),
    "-": ("...", "...", "###", "...", "..."),
    " ": ("..", "..", "..", "..", ".."),
}
_HALF = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def big_lines(text: str) -> list[str]:
    """``text`` in the large font: three lines (characters outside the font are skipped)."""
    glyphs = [_FONT[c] for c in text.upper() if c in _FONT]
    rows = [" ".join(g[r] for g in glyphs) for r in range(5)] + [""]
    rows[5] = "." * len(rows[0])
    out = []
    for top, bottom in zip(rows[0::2], rows[1::2], strict=True):
        out.append("".join(_HALF[(a == "#", b == "#")] for a, b in zip(top, bottom, strict=True)))
    return out


class BigCode(Static):
    """A code in large type: on wide screens on one line, else two groups per line."""

    DEFAULT_CSS = """
    BigCode { width: auto; height: auto; padding: 1 2; text-style: bold; }
    """

    def __init__(self, code: str, **kwargs: object) -> None:
        super().__init__("", **kwargs)  # type: ignore[arg-type]
        self.code = code

    def on_mount(self) -> None:
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        groups = self.code.split("-")
        one_line = big_lines(self.code)
        width = self.app.size.width if self.is_mounted else 200
        if len(one_line[0]) + 6 <= width or len(groups) < 2:
            parts = [one_line]
        else:
            half = (len(groups) + 1) // 2
            parts = [big_lines("-".join(groups[:half]) + "-"), big_lines("-".join(groups[half:]))]
        lines: list[Text] = []
        for block in parts:
            lines.extend(Text(line) for line in block)
            lines.append(Text(""))
        lines.append(Text(self.code, style="bold"))
        self.update(Group(*lines))
