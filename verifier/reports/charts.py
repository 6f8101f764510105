"""Small inline SVG charts drawn on the server: pure functions from numbers to an `<svg>` string.

Every chart is a standalone, well-formed SVG document (it parses as XML) with a
`<title>` and an `aria-label`, axis labels where there are axes, and a legend.
Every text is escaped. Without data a chart still is a valid SVG that says so.
Drawn marks (bars, slices) carry `class="mark"`; legend swatches do not.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

#: Okabe-Ito colours: told apart with every common colour-vision deficiency.
BLUE, ORANGE, GREEN, VERMILLION, PINK, SKY, GREY = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#8C8C8C",
)
INK, MUTED, GRID = "#1f2328", "#59636e", "#d8dee4"
#: Bars a chart needs besides its muted ones before these may be cut off (see stacked_bars).
MUTED_PEERS = 4
FONT = "system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif"


@dataclass(frozen=True, slots=True)
class Series:
    """One named, coloured row of values; negative values are drawn below the zero line."""

    name: str
    values: Sequence[float]
    color: str


def esc(text: object) -> str:
    """Text escaped for XML and HTML, quotes included.

    >>> esc('<b a="1">&\\'')
    '&lt;b a=&quot;1&quot;&gt;&amp;&#x27;'
    """
    return html.escape(str(text), quote=True)


def number(value: float) -> str:
    """A value as a label: thousands separated, at most one decimal.

    >>> number(1234), number(2.5), number(-3.0)
    ('1,234', '2.5', '-3')
    """
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def percent(value: float) -> str:
    """A fraction as a percentage label; a small share is "<1%", never "0%".

    >>> percent(0.256), percent(1), percent(0.001), percent(0)
    ('26%', '100%', '<1%', '0%')
    """
    if 0 < value < 0.005:
        return "<1%"
    return f"{value:.0%}"


def nice_step(span: float, ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about `ticks` ticks.

    >>> nice_step(100), nice_step(7), nice_step(0.3), nice_step(0)
    (20, 2, 0.1, 1)
    """
    if span <= 0:
        return 1
    raw = span / ticks
    power: float = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            step = factor * power
            return int(step) if step >= 1 else round(step, 12)
    return 10 * power  # pragma: no cover - the loop always returns


def _f(value: float) -> str:
    """A coordinate, short."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(title: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' aria-label="{esc(title)}" font-family="{esc(FONT)}" font-size="12" fill="{INK}">',
        f"<title>{esc(title)}</title>",
    ]


def empty_chart(
    title: str, message: str = "No data yet.", width: int = 720, height: int = 120
) -> str:
    """A valid SVG that has no data: its title and a message."""
    return "".join(
        [
            *_open(title, width, height),
            f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="6"'
            f' fill="#f6f8fa" stroke="{GRID}"/>',
            f'<text x="{width / 2:g}" y="{height / 2 + 4:g}" text-anchor="middle"'
            f' fill="{MUTED}" font-size="14">{esc(message)}</text>',
            "</svg>",
        ]
    )


def _legend(entries: Sequence[tuple[str, str]], x: float, y: float, gap: float = 28) -> list[str]:
    """Swatch and name per entry, in a row starting at (x, y)."""
    out = ['<g class="legend">']
    for name, color in entries:
        out.append(
            f'<rect x="{_f(x)}" y="{_f(y - 10)}" width="12" height="12" rx="2" fill="{color}"/>'
        )
        out.append(f'<text x="{_f(x + 17)}" y="{_f(y)}">{esc(name)}</text>')
        x += 17 + 7.2 * len(name) + gap
    out.append("</g>")
    return out


def _x_label(text: str, x: float, y: float) -> str:
    return f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="middle">{esc(text)}</text>'


def _scale(ups: Sequence[float], downs: Sequence[float]) -> tuple[float, float, float]:
    """(low, high, step) of a count axis that holds every value: whole-number ticks."""
    step = max(1, nice_step(max(max(ups, default=0) - min(downs, default=0), 1)))
    high = max(step, math.ceil(max(ups, default=0) / step) * step)
    return math.floor(min(downs, default=0) / step) * step, high, step


def _stack(
    values: Sequence[float],
    colors: Sequence[str],
    x: float,
    bar_w: float,
    y_at: Callable[[float], float],
) -> tuple[list[str], float, float]:
    """The rects of one stacked bar, and its totals above and below zero."""
    rects, up, down = [], 0.0, 0.0
    for value, color in zip(values, colors, strict=True):
        start = up if value > 0 else down
        up, down = (start + value, down) if value > 0 else (up, start + value)
        y0, y1 = sorted((y_at(start), y_at(start + value)))
        if value:
            rects.append(
                f'<rect class="mark" x="{_f(x)}" y="{_f(y0)}" width="{_f(bar_w)}"'
                f' height="{_f(max(y1 - y0, 0.5))}" fill="{color}"/>'
            )
    return rects, up, down


def stacked_bars(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    muted: Collection[int] = (),
    width: int = 720,
    height: int = 300,
) -> str:
    """One bar per label, its series of counts stacked: positive values up, negative ones down.

    `muted` are label indexes drawn faded (a baseline period, say) and, given at
    least MUTED_PEERS other bars, left out of the scale: a muted bar that does not
    fit then is cut off and labelled with its total.
    """
    if not labels or not series:
        return empty_chart(title, width=width)
    left, right, top, bottom = 64, 16, 40, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    ups = [sum(max(0, s.values[i]) for s in series) for i in range(len(labels))]
    downs = [sum(min(0, s.values[i]) for s in series) for i in range(len(labels))]
    scaled = [i for i in range(len(labels)) if i not in muted]
    if len(scaled) < MUTED_PEERS:  # too few others to judge by: everything fits
        scaled = list(range(len(labels)))
    low, high, step = _scale([ups[i] for i in scaled], [downs[i] for i in scaled])

    def y_at(value: float) -> float:
        return top + (high - min(max(value, low), high)) / (high - low) * plot_h

    out = _open(title, width, height)
    out += _legend([(s.name, s.color) for s in series], left, 18)
    for k in range(round((high - low) / step) + 1):
        y = y_at(low + k * step)
        stroke = MUTED if low + k * step == 0 else GRID
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_f(y)}" y2="{_f(y)}" stroke="{stroke}"/>'
            f'<text x="{left - 6}" y="{_f(y + 4)}" text-anchor="end" fill="{MUTED}">'
            f"{esc(number(low + k * step))}</text>"
        )
    colors = [s.color for s in series]
    band = plot_w / len(labels)
    bar_w = min(48.0, max(1.0, band * 0.7))
    every = max(1, math.ceil(len(labels) / max(1, plot_w // 84)))
    for i, label in enumerate(labels):
        x = left + i * band + (band - bar_w) / 2
        tip = ", ".join(f"{s.name} {number(abs(s.values[i]))}" for s in series)
        faded = ' opacity="0.45"' if i in muted else ""
        out.append(f"<g{faded}><title>{esc(label)}: {esc(tip)}</title>")
        rects, up, down = _stack([s.values[i] for s in series], colors, x, bar_w, y_at)
        out += [*rects, "</g>"]
        for total, y in ((up, top + 14), (down, top + plot_h - 6)):
            if not low <= total <= high:  # cut off: say how far it goes
                out.append(
                    f'<text x="{_f(x + bar_w / 2)}" y="{y}" text-anchor="middle"'
                    f' stroke="#fff" stroke-width="3" paint-order="stroke">'
                    f"{esc(number(abs(total)))}</text>"
                )
        if i % every == 0:
            out.append(
                f'<text x="{_f(x + bar_w / 2)}" y="{top + plot_h + 18}" text-anchor="middle"'
                f' fill="{MUTED}">{esc(label)}</text>'
            )
    out.append(_x_label(x_label, left + plot_w / 2, height - 8))
    out.append(
        f'<text transform="translate(16 {top + plot_h / 2:g}) rotate(-90)"'
        f' text-anchor="middle">{esc(y_label)}</text>'
    )
    out.append("</svg>")
    return "".join(out)


def hbars(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    x_label: str,
    series: str,
    fmt: Callable[[float], str] = number,
    color: str = BLUE,
    highlight: Collection[str] = (),
    highlight_label: str = "",
    width: int = 720,
) -> str:
    """Horizontal bars, one per (label, value >= 0), labelled with `fmt(value)`.

    Items named in `highlight` are drawn in vermillion, named `highlight_label` in the legend.
    """
    if not items:
        return empty_chart(title, width=width)
    row, left, right, top, bottom = 28, 150, 64, 40, 48
    height = top + row * len(items) + bottom
    plot_w = width - left - right
    biggest = max(max(value for _, value in items), 0)
    step = nice_step(biggest or 1, 4)
    high = max(step, math.ceil(biggest / step) * step) if biggest else 1
    out = _open(title, width, height)
    legend = [(series, color)]
    if highlight_label and any(label in highlight for label, _ in items):
        legend.append((highlight_label, VERMILLION))
    out += _legend(legend, left, 18)
    for k in range(round(high / step) + 1):
        tick = k * step
        x = left + tick / high * plot_w
        out.append(
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{top - 4}" y2="{top + row * len(items)}"'
            f' stroke="{GRID}"/>'
        )
        out.append(
            f'<text x="{_f(x)}" y="{top + row * len(items) + 16}" text-anchor="middle"'
            f' fill="{MUTED}">{esc(fmt(tick))}</text>'
        )
    for i, (label, value) in enumerate(items):
        y = top + i * row
        bar = max(0.0, value) / high * plot_w
        fill = VERMILLION if label in highlight else color
        out.append(f"<g><title>{esc(label)}: {esc(fmt(value))}</title>")
        out.append(
            f'<text x="{left - 8}" y="{y + row / 2 + 4:g}" text-anchor="end">{esc(label)}</text>'
        )
        out.append(
            f'<rect class="mark" x="{left}" y="{y + 5}" width="{_f(max(bar, 1))}"'
            f' height="{row - 10}" rx="2" fill="{fill}"/>'
        )
        out.append(
            f'<text x="{_f(left + bar + 6)}" y="{y + row / 2 + 4:g}">{esc(fmt(value))}</text>'
        )
        out.append("</g>")
    out.append(_x_label(x_label, left + plot_w / 2, height - 8))
    out.append("</svg>")
    return "".join(out)


def _ring(cx: float, cy: float, outer: float, inner: float, a0: float, a1: float) -> str:
    """The path of a ring segment from angle a0 to a1 (radians, clockwise from 12 o'clock)."""

    def at(radius: float, angle: float) -> str:
        return f"{_f(cx + radius * math.sin(angle))} {_f(cy - radius * math.cos(angle))}"

    big = 1 if a1 - a0 > math.pi else 0
    return (
        f"M {at(outer, a0)} A {_f(outer)} {_f(outer)} 0 {big} 1 {at(outer, a1)}"
        f" L {at(inner, a1)} A {_f(inner)} {_f(inner)} 0 {big} 0 {at(inner, a0)} Z"
    )


def donut(
    parts: Sequence[tuple[str, float, str]],
    *,
    title: str,
    center: str,
    width: int = 440,
    height: int = 220,
) -> str:
    """A donut of (name, value >= 0, colour) parts; the legend gives counts and shares.

    `center` is the caption under the total in the hole (e.g. "domains").
    """
    total = sum(max(0, value) for _, value, _ in parts)
    if not total:
        return empty_chart(title, "No live links yet.", width=width, height=height)
    cx, cy, outer, inner = 110, height / 2, 90, 56
    out = _open(title, width, height)
    angle = 0.0
    # white seams between parts; none inside a part drawn in pieces
    seam = ' stroke="#fff"' if sum(value > 0 for _, value, _ in parts) > 1 else ""
    for name, value, color in parts:
        if value <= 0:
            continue
        end = angle + value / total * 2 * math.pi
        # an arc cannot run a full circle: draw at most half a turn per piece
        pieces = max(1, math.ceil((end - angle) / math.pi - 1e-9))
        span = (end - angle) / pieces
        tip = f"{name}: {number(value)} ({percent(value / total)})"
        out.append(f"<g><title>{esc(tip)}</title>")
        for k in range(pieces):
            path = _ring(cx, cy, outer, inner, angle + k * span, angle + (k + 1) * span)
            out.append(f'<path class="mark" d="{path}" fill="{color}"{seam}/>')
        out.append("</g>")
        angle = end
    out.append(
        f'<text x="{cx}" y="{_f(cy + 2)}" text-anchor="middle" font-size="22"'
        f' font-weight="600">{esc(number(total))}</text>'
    )
    out.append(
        f'<text x="{cx}" y="{_f(cy + 20)}" text-anchor="middle" fill="{MUTED}">{esc(center)}</text>'
    )
    out.append('<g class="legend">')
    y = cy - 11 * len(parts) + 12
    for name, value, color in parts:
        out.append(f'<rect x="232" y="{_f(y - 10)}" width="12" height="12" rx="2" fill="{color}"/>')
        share = percent(max(0, value) / total)
        out.append(
            f'<text x="250" y="{_f(y)}">{esc(name)}'
            f'<tspan fill="{MUTED}"> {esc(number(value))} ({esc(share)})</tspan></text>'
        )
        y += 22
    out.append("</g></svg>")
    return "".join(out)
