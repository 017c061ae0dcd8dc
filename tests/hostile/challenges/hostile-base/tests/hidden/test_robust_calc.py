"""Hidden robustness tests: a lent clock. SECRET-MARKER-7f3a marks this source."""

import calc


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def test_elapsed_uses_the_lent_clock():
    clock = FakeClock()
    assert calc.elapsed(clock, lambda: clock.advance(2.5)) == 2.5


def test_clamp_caps_at_high():
    assert calc.clamp(15, 0, 10) == 10, "values above high are capped"


def test_clamp_raises_low():
    assert calc.clamp(-5, 0, 10) == 0
