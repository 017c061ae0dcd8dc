"""Live CPU and memory of a test run (sparklines) and the peak of the last run."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Sparkline

HISTORY = 60


class ResourceMeter(Vertical):
    """Fed ResourceSample objects (t, cpu_percent, rss_mb, procs) and a final Resources."""

    DEFAULT_CSS = """
    ResourceMeter { height: auto; }
    ResourceMeter Horizontal { height: 1; }
    ResourceMeter .meter-label { width: 14; }
    ResourceMeter Sparkline { width: 1fr; height: 1; }
    ResourceMeter #peak { height: 1; color: $text-muted; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cpu: list[float] = []
        self.mem: list[float] = []

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("CPU      -", id="cpu-label", classes="meter-label")
            yield Sparkline([], id="cpu-spark", summary_function=max)
        with Horizontal():
            yield Label("MEM      -", id="mem-label", classes="meter-label")
            yield Sparkline([], id="mem-spark", summary_function=max)
        yield Label("no run yet", id="peak")

    def reset(self) -> None:
        self.cpu.clear()
        self.mem.clear()
        self._redraw()
        self.query_one("#peak", Label).update("running...")

    def add_samples(self, samples: list[Any]) -> None:
        if not samples:
            return
        for s in samples:
            self.cpu.append(float(s.cpu_percent))
            self.mem.append(float(s.rss_mb))
        del self.cpu[:-HISTORY], self.mem[:-HISTORY]
        last = samples[-1]
        self.query_one("#cpu-label", Label).update(f"CPU {last.cpu_percent:5.0f}%")
        self.query_one("#mem-label", Label).update(f"MEM {last.rss_mb:5.0f} MB")
        self._redraw()

    def _redraw(self) -> None:
        self.query_one("#cpu-spark", Sparkline).data = list(self.cpu)
        self.query_one("#mem-spark", Sparkline).data = list(self.mem)

    def show_peak(self, resources: Any) -> None:
        """Resources of the finished run: wall_s, cpu_s, peak_rss_mb, max_procs, limit_hit.
        The live figures go back to idle (the sparklines keep the last run's shape)."""
        self.query_one("#cpu-label", Label).update("CPU   idle")
        self.query_one("#mem-label", Label).update("MEM   idle")
        text = (
            f"last run: peak {resources.peak_rss_mb:.0f} MB · {resources.max_procs} procs · "
            f"{resources.wall_s:.1f}s"
        )
        if resources.limit_hit:
            text += f" · {resources.limit_hit} limit hit"
        self.query_one("#peak", Label).update(text)
