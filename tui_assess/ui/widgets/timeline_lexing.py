"""Syntax colours for the replay's code view, one line at a time: the lexer's state is carried
from line to line, and each line's colours are kept by (the state it starts in, its text).

Moving through a session shows the same lines again and again (a step changes one line; a
seek shows mostly lines seen at other moments), so a move lexes only the lines it has not
seen in that state. Lexing a window of ~170 lines per move cost more than anything else a
seek did (10-30 ms on this machine under load).

For Python and SQL, whose lexers are Pygments' plain ``RegexLexer``: its state is a stack of
state names, which this module runs line by line exactly as Pygments runs it over a whole
text. A token that one regular expression matches across lines (Python's docstring rule) is
lexed by the line-sized rules instead: a string either way, and the themes colour both alike
(checked against whole-text lexing on every Python and SQL file in the repository, where that
is the only difference). Markdown and TOML have more such rules (fenced code, multi-line
strings): they, and the others, keep the editor's window lexing (``LineColours.handles``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pygments.lexer import Lexer, RegexLexer
from pygments.token import Error, Whitespace, _TokenType

from tui_assess.ui.widgets.code_editor import highlight_name

State = tuple[str, ...]
Spans = list[tuple[int, int, str]]
"""(start character, end character, highlight name) of one line."""

#: Lexers run line by line (by Pygments alias), see the module's docstring.
LINE_LEXERS = frozenset({"python", "sql"})
#: Lines kept; past this the cache starts again (a two-hour session's files stay far below).
KEPT = 50_000


def _tokens(lexer: RegexLexer, text: str, stack: list[str]
            ) -> Iterator[tuple[int, _TokenType, str]]:
    """``RegexLexer.get_tokens_unprocessed`` (Pygments 2.x), with the state stack given and
    left in ``stack`` at the end, so the next line can start where this one ended."""
    pos = 0
    tokendefs = lexer._tokens
    statetokens = tokendefs[stack[-1]]
    while True:
        for rexmatch, action, new_state in statetokens:
            m = rexmatch(text, pos)
            if m:
                if action is not None:
                    if type(action) is _TokenType:
                        yield pos, action, m.group()
                    else:
                        yield from action(lexer, m)
                pos = m.end()
                if new_state is not None:
                    if isinstance(new_state, tuple):
                        for state in new_state:
                            if state == "#pop":
                                if len(stack) > 1:
                                    stack.pop()
                            elif state == "#push":
                                stack.append(stack[-1])
                            else:
                                stack.append(state)
                    elif isinstance(new_state, int):
                        if abs(new_state) >= len(stack):
                            del stack[1:]
                        else:
                            del stack[new_state:]
                    elif new_state == "#push":
                        stack.append(stack[-1])
                    statetokens = tokendefs[stack[-1]]
                break
        else:
            if pos >= len(text):
                return
            if text[pos] == "\n":  # at the end of a line, Pygments resets to "root"
                stack[:] = ["root"]
                statetokens = tokendefs["root"]
                yield pos, Whitespace, "\n"
            else:
                yield pos, Error, text[pos]
            pos += 1


class LineColours:
    """One lexer's colours, line by line, cached by (start state, line)."""

    def __init__(self, lexer: Lexer) -> None:
        self.lexer = lexer
        self._lines: dict[tuple[State, str], tuple[Spans, State]] = {}
        self._names: dict[_TokenType, str | None] = {}

    @staticmethod
    def handles(lexer: Lexer) -> bool:
        return (isinstance(lexer, RegexLexer) and bool(LINE_LEXERS & set(lexer.aliases))
                and type(lexer).get_tokens_unprocessed is RegexLexer.get_tokens_unprocessed)

    def spans(self, lines: Sequence[str], first: int, start: int, end: int
              ) -> dict[int, Spans]:
        """Colours of ``lines[start:end]``, lexing from line ``first`` (in the root state)."""
        state: State = ("root",)
        out: dict[int, Spans] = {}
        cache = self._lines
        for row in range(first, min(end, len(lines))):
            key = (state, lines[row])
            found = cache.get(key)
            if found is None:
                if len(cache) >= KEPT:
                    cache.clear()
                found = cache[key] = self._lex(lines[row], state)
            spans, state = found
            if row >= start and spans:
                out[row] = spans
        return out

    def _lex(self, line: str, state: State) -> tuple[Spans, State]:
        stack = list(state)
        spans: Spans = []
        names = self._names
        for pos, token, value in _tokens(self.lexer, line + "\n", stack):  # type: ignore[arg-type]
            if pos >= len(line) or not value:
                continue
            name = names[token] if token in names else names.setdefault(
                token, highlight_name(token))
            if name is not None:
                spans.append((pos, min(pos + len(value), len(line)), name))
        return spans, tuple(stack)
