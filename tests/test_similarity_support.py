"""A synthetic cohort for the similarity tests and benchmark (no tests here).

Each independent submission is a small Python module of random functions whose statements and
expressions are drawn from a grammar (loops, conditions, comprehensions, arithmetic, calls,
dictionaries), so two of them share no long token run by accident. A *planted copy* takes a
submission and disguises it the way people do: every identifier renamed, literals changed,
comments added, a few lines inserted, functions reordered.
"""

from __future__ import annotations

import random
import re

OPS = ["+", "-", "*", "//", "%", "<<", ">>", "&", "|", "^"]
CMPS = ["<", "<=", ">", ">=", "==", "!="]
CALLS = ["len", "abs", "min", "max", "sorted", "sum", "str", "int", "round"]
WORDS = ["total", "count", "item", "row", "key", "value", "acc", "idx", "batch", "node",
         "price", "order", "user", "result", "tmp", "size", "limit", "page", "seen", "out"]


class Grammar:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def name(self) -> str:
        return self.rng.choice(WORDS) + str(self.rng.randrange(100))

    def expr(self, names: list[str], depth: int = 0) -> str:
        r = self.rng.random()
        if depth > 2 or r < 0.25:
            return self.rng.choice(names) if self.rng.random() < 0.6 else str(
                self.rng.randrange(1000))
        if r < 0.55:
            return (f"({self.expr(names, depth + 1)} {self.rng.choice(OPS)} "
                    f"{self.expr(names, depth + 1)})")
        if r < 0.75:
            return f"{self.rng.choice(CALLS)}({self.expr(names, depth + 1)})"
        if r < 0.9:
            return f"{self.rng.choice(names)}[{self.expr(names, depth + 1)}]"
        return (f"[{self.expr(names, depth + 1)} for {names[0]} in "
                f"range({self.expr(names, depth + 1)})]")

    def cond(self, names: list[str]) -> str:
        return f"{self.expr(names, 1)} {self.rng.choice(CMPS)} {self.expr(names, 1)}"

    def block(self, names: list[str], indent: int, depth: int = 0) -> list[str]:
        pad = "    " * indent
        lines: list[str] = []
        for _ in range(self.rng.randint(2, 4)):
            r = self.rng.random()
            if depth < 2 and r < 0.2:
                var = self.name()
                lines.append(f"{pad}for {var} in range({self.expr(names, 1)}):")
                lines += self.block([*names, var], indent + 1, depth + 1)
            elif depth < 2 and r < 0.4:
                lines.append(f"{pad}if {self.cond(names)}:")
                lines += self.block(names, indent + 1, depth + 1)
                if self.rng.random() < 0.5:
                    lines.append(f"{pad}else:")
                    lines += self.block(names, indent + 1, depth + 1)
            elif r < 0.55:
                lines.append(f"{pad}{self.rng.choice(names)}[{self.expr(names, 1)}] = "
                             f"{self.expr(names)}")
            else:
                var = self.name()
                lines.append(f"{pad}{var} = {self.expr(names)}")
                names = [*names, var]
        return lines

    def function(self) -> list[str]:
        params = [self.name() for _ in range(self.rng.randint(1, 3))]
        lines = [f"def {self.name()}({', '.join(params)}):"]
        lines += self.block(params, 1)
        lines.append(f"    return {self.expr(params)}")
        return lines


def submission(seed: int, functions: int = 5) -> str:
    """One independent submission (about 40-80 lines)."""
    g = Grammar(random.Random(seed))
    out: list[str] = []
    for _ in range(functions):
        out += g.function() + [""]
    return "\n".join(out) + "\n"


def disguise(source: str, seed: int) -> str:
    """A planted copy: identifiers renamed, numbers changed, comments and lines added,
    functions reordered."""
    rng = random.Random(seed)
    keep = set(CALLS) | {"def", "return", "for", "in", "range", "if", "else"}
    names = sorted({m for m in re.findall(r"[A-Za-z_]\w*", source)} - keep)
    renamed = {n: f"v_{rng.randrange(10**6)}_{i}" for i, n in enumerate(names)}
    out = re.sub(r"[A-Za-z_]\w*", lambda m: renamed.get(m.group(), m.group()), source)
    out = re.sub(r"\b\d+\b", lambda m: str(int(m.group()) + rng.randrange(1, 50)), out)
    functions = [f for f in out.split("\n\n") if f.strip()]
    rng.shuffle(functions)
    disguised = []
    for f in functions:
        lines = f.splitlines()
        lines.insert(1, "    # helper, see notes")
        disguised.append("\n".join(lines))
    return "\n\n".join(disguised) + "\n"


def cohort(n: int, planted: int, seed: int = 7) -> tuple[dict[str, dict[str, str]],
                                                         set[tuple[str, str]]]:
    """``n`` submissions ({id: {"solution.py": text}}), of which ``planted`` are disguised
    copies of others; returns them and the planted pairs (sorted ids)."""
    rng = random.Random(seed)
    subs = {f"s{i:04d}": {"solution.py": submission(seed * 100_003 + i)}
            for i in range(n - planted)}
    originals = rng.sample(sorted(subs), planted)
    pairs = set()
    for j, orig in enumerate(originals):
        copy = f"c{j:04d}"
        subs[copy] = {"solution.py": disguise(subs[orig]["solution.py"], seed + j)}
        pairs.add(tuple(sorted((orig, copy))))
    return subs, pairs  # type: ignore[return-value]
