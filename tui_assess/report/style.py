"""The HTML report's stylesheet, inlined into every report (no external assets): the page's
own rules (``templates/report.css``) and pygments' token colours."""

from __future__ import annotations

from importlib import resources

from pygments.formatters import HtmlFormatter

CSS = (resources.files("tui_assess.report").joinpath("templates/report.css")
       .read_text(encoding="utf-8")
       + HtmlFormatter(style="default").get_style_defs(["table.code", "pre.diff"]))
