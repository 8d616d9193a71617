"""The board's charts as standalone SVG: horizontal bar charts (success with its 95% interval)
and the sim-vs-real scatter, each with an axis, ticks and value labels.

Every chart is plain SVG with presentation attributes (no stylesheet), so the same text is
inlined in index.html and written as `charts/*.svg` for README.md. Classes name the parts for
tests and styling: `chart`, `bar`, `interval`, `bar-label`, `value-label`, `axis`, `tick`,
`tick-label`, `axis-label`, `grid`. Labels that would not fit their column are cut with an
ellipsis; the full text stays in a <title> (a tooltip in browsers).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

FONT = 'font-family="system-ui, DejaVu Sans, sans-serif"'
CHAR_WIDTH = 7.2  # px per character at 12 px, generous (DejaVu Sans is wide)
TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)
COLORS = {"sim": "#3b6fc4", "real": "#d9782d"}
OTHER_COLOR = "#6b8e23"


@dataclass
class Bar:
    label: str  # shown left of the plot, cut to fit (the full text in a tooltip)
    value: float  # bar length, 0..1
    low: float  # 95% interval
    high: float
    text: str  # right of the plot: "0.75 (15/20)"
    group: str = "sim"  # colour (the backend)
    suffix: str = ""  # kept after the cut label, e.g. " (real)"


def fit(text: str, width: float, char_width: float = CHAR_WIDTH) -> str:
    """`text` cut with an ellipsis so it takes at most `width` pixels."""
    most = max(int(width / char_width + 1e-6), 4)
    return text if len(text) <= most else text[:most - 1].rstrip() + "…"


def _tick_text(value: float) -> str:
    return f"{value:g}"


def _svg(width: float, height: float, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width:g} '
            f'{height:g}" width="{width:g}" height="{height:g}" role="img" '
            f'aria-label="{escape(label)}" {FONT} font-size="12">'
            f'<title>{escape(label)}</title>'
            f'<rect width="100%" height="100%" fill="#fff"/>{"".join(body)}</svg>')


def bar_chart(bars: list[Bar], title: str, axis_label: str = "success rate",
              width: int = 760) -> str:
    """One bar per row, its 95% interval as whiskers, its value written right of the plot;
    an x axis from 0 to 1 with ticks, grid lines and a label."""
    row, top = 28, 34
    label_width = min(max([len(b.label + b.suffix) * CHAR_WIDTH for b in bars] + [60]), 260)
    x0, x1 = 12 + label_width + 12, width - 110
    scale = lambda v: x0 + max(0.0, min(1.0, v)) * (x1 - x0)  # noqa: E731
    axis_y = top + row * len(bars) + 4
    height = axis_y + 46
    body = [f'<text class="chart-title" x="12" y="20" font-size="14" font-weight="600">'
            f'{escape(title)}</text>']
    groups = sorted({b.group for b in bars})
    if len(groups) > 1:  # a legend: which colour is which backend
        for i, group in enumerate(groups):
            x = width - 110 * (len(groups) - i)
            body.append(f'<g class="legend"><rect x="{x}" y="9" width="12" height="12" '
                        f'fill="{COLORS.get(group, OTHER_COLOR)}"/><text x="{x + 16}" y="20">'
                        f'{escape(group)}</text></g>')
    for tick in TICKS:
        x = scale(tick)
        body.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" '
                    f'y2="{axis_y}" stroke="#e3e3e3"/>')
    for i, bar in enumerate(bars):
        y = top + i * row
        mid = y + row / 2
        color = COLORS.get(bar.group, OTHER_COLOR)
        body.append(f'<text class="bar-label" x="{x0 - 10}" y="{mid + 4:.1f}" '
                    f'text-anchor="end"><title>{escape(bar.label + bar.suffix)}</title>'
                    f'{escape(fit(bar.label, label_width - len(bar.suffix) * CHAR_WIDTH))}'
                    f'{escape(bar.suffix)}</text>')
        body.append(f'<rect class="bar" x="{x0}" y="{mid - 8:.1f}" '
                    f'width="{scale(bar.value) - x0:.1f}" height="16" fill="{color}">'
                    f'<title>{escape(bar.label + bar.suffix)}: {escape(bar.text)}</title></rect>')
        lo, hi = scale(bar.low), scale(bar.high)
        body.append(f'<g class="interval" stroke="#222" stroke-width="1.5">'
                    f'<line x1="{lo:.1f}" x2="{hi:.1f}" y1="{mid:.1f}" y2="{mid:.1f}"/>'
                    f'<line x1="{lo:.1f}" x2="{lo:.1f}" y1="{mid - 5:.1f}" y2="{mid + 5:.1f}"/>'
                    f'<line x1="{hi:.1f}" x2="{hi:.1f}" y1="{mid - 5:.1f}" y2="{mid + 5:.1f}"/>'
                    f'</g>')
        body.append(f'<text class="value-label" x="{x1 + 12}" y="{mid + 4:.1f}">'
                    f'{escape(bar.text)}</text>')
    body.append(f'<g class="axis x-axis"><line x1="{x0}" x2="{x1}" y1="{axis_y}" '
                f'y2="{axis_y}" stroke="#444"/>')
    for tick in TICKS:
        x = scale(tick)
        body.append(f'<line class="tick" x1="{x:.1f}" x2="{x:.1f}" y1="{axis_y}" '
                    f'y2="{axis_y + 5}" stroke="#444"/><text class="tick-label" x="{x:.1f}" '
                    f'y="{axis_y + 18}" text-anchor="middle">{_tick_text(tick)}</text>')
    body.append(f'<text class="axis-label" x="{(x0 + x1) / 2:.1f}" y="{axis_y + 36}" '
                f'text-anchor="middle" fill="#444">{escape(axis_label)}</text></g>')
    return _svg(width, height, title, body)


def scatter(names: list[str], sim: list[float], real: list[float], pearson_r: float,
            mmrv: float, size: int = 420) -> str:
    """Sim success (x) against real success (y) per policy, the diagonal where they agree,
    both axes 0..1 with ticks."""
    left, right, top, bottom = 58, 24, 56, 52
    span_x, span_y = size - left - right, size - top - bottom
    sx = lambda v: left + v * span_x  # noqa: E731
    sy = lambda v: top + (1 - v) * span_y  # noqa: E731
    title = f"Sim vs real success: Pearson r {pearson_r:.3f}, MMRV {mmrv:.3f}"
    body = [f'<text class="chart-title" x="12" y="20" font-size="14" font-weight="600">'
            f'Sim vs real success per policy</text><text x="12" y="38" fill="#444">'
            f'Pearson r {pearson_r:.3f} · MMRV {mmrv:.3f} (0 = same ranking)</text>',
            f'<line class="diagonal" x1="{sx(0)}" y1="{sy(0)}" x2="{sx(1)}" y2="{sy(1)}" '
            f'stroke="#bbb" stroke-dasharray="4 3"/>']
    axes = [f'<g class="axis x-axis"><line x1="{sx(0)}" x2="{sx(1)}" y1="{sy(0)}" '
            f'y2="{sy(0)}" stroke="#444"/>']
    for tick in TICKS:
        axes.append(f'<line class="tick" x1="{sx(tick):.1f}" x2="{sx(tick):.1f}" '
                    f'y1="{sy(0)}" y2="{sy(0) + 5}" stroke="#444"/><text class="tick-label" '
                    f'x="{sx(tick):.1f}" y="{sy(0) + 18}" text-anchor="middle">'
                    f'{_tick_text(tick)}</text>')
    axes.append(f'<text class="axis-label" x="{sx(0.5):.1f}" y="{size - 10}" '
                f'text-anchor="middle" fill="#444">sim success (IQM)</text></g>')
    axes.append(f'<g class="axis y-axis"><line x1="{sx(0)}" x2="{sx(0)}" y1="{sy(0)}" '
                f'y2="{sy(1)}" stroke="#444"/>')
    for tick in TICKS:
        axes.append(f'<line class="tick" x1="{sx(0) - 5}" x2="{sx(0)}" y1="{sy(tick):.1f}" '
                    f'y2="{sy(tick):.1f}" stroke="#444"/><text class="tick-label" '
                    f'x="{sx(0) - 8}" y="{sy(tick) + 4:.1f}" text-anchor="end">'
                    f'{_tick_text(tick)}</text>')
    axes.append(f'<text class="axis-label" transform="translate(16 {sy(0.5):.1f}) '
                f'rotate(-90)" text-anchor="middle" fill="#444">real success (IQM)</text></g>')
    body += axes
    for name, x, y in zip(names, sim, real, strict=True):
        px, py = sx(x), sy(y)
        anchor, dx = ("end", -8) if x > 0.6 else ("start", 8)
        body.append(f'<circle class="point" cx="{px:.1f}" cy="{py:.1f}" r="5" fill="#c43b3b">'
                    f'<title>{escape(name)}: sim {x:.2f}, real {y:.2f}</title></circle>'
                    f'<text class="point-label" x="{px + dx:.1f}" y="{py - 7:.1f}" '
                    f'text-anchor="{anchor}" font-size="11">{escape(fit(name, 150))}</text>')
    return _svg(size, size, title, body)
