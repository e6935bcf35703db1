"""The whole screen as a person sees it: text, boxes, and what lies inside a box.

``screen_lines`` renders exactly what the terminal gets (the same path as Textual's own
screenshots, modal screens over the screens below them, toasts and all), so assertions made on it
never depend on how a widget stores its rows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from rich.console import Console
from textual.app import App

# Corner and edge characters per border family: (top-left, top-right, bottom-left, bottom-right,
# vertical).
FAMILIES = (
    ("╭", "╮", "╰", "╯", "│"),
    ("┌", "┐", "└", "┘", "│"),
    ("┏", "┓", "┗", "┛", "┃"),
    ("+", "+", "+", "+", "|"),
)


def screen_text(app: App[object]) -> str:
    """Every cell of the screen, one line per row (modal screens drawn over what they cover)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    lines = console.export_text().split("\n")[:height]
    return "\n".join(line.ljust(width) for line in lines)


def screen_lines(app: App[object]) -> list[str]:
    return screen_text(app).split("\n")


@dataclass(frozen=True)
class Box:
    top: int
    left: int
    bottom: int
    right: int
    title: str

    def inside(self, lines: list[str]) -> list[str]:
        """The rows between the borders, without them."""
        return [line[self.left + 1 : self.right] for line in lines[self.top + 1 : self.bottom]]


@dataclass(frozen=True)
class OpenBox:
    top: int
    left: int
    title: str
    why: str


def _title(line: str, left: int, right: int) -> str:
    return line[left + 1 : right].strip("─━-+ ").strip()


def find_boxes(lines: list[str]) -> tuple[list[Box], list[OpenBox]]:
    """Every box drawn on the screen, and every box whose frame is broken: a top-left corner
    without its right corner, a side cut by text, a missing bottom."""
    boxes: list[Box] = []
    broken: list[OpenBox] = []
    height = len(lines)
    for row, line in enumerate(lines):
        for col, char in enumerate(line):
            for tl, tr, bl, br, vertical in FAMILIES:
                if char != tl:
                    continue
                if tl == "+" and (col + 1 >= len(line) or line[col + 1] != "-"):
                    continue  # a plus sign in text, not an ASCII corner
                if tl == "+" and (row + 1 >= height or lines[row + 1][col] != "|"):
                    continue  # the bottom corner of a box above, or a "+-" in text
                right = line.find(tr, col + 1)
                if right < 0:
                    broken.append(OpenBox(row, col, line[col:].strip(), "no top-right corner"))
                    break
                title = _title(line, col, right)
                bottom = row + 1
                while bottom < height and lines[bottom][col] == vertical:
                    bottom += 1
                if bottom >= height or lines[bottom][col] != bl:
                    broken.append(OpenBox(row, col, title, "no bottom-left corner"))
                    break
                if lines[bottom][right] != br:
                    broken.append(OpenBox(row, col, title, "no bottom-right corner"))
                    break
                cut = [r for r in range(row + 1, bottom) if lines[r][right] != vertical]
                if cut:
                    broken.append(OpenBox(row, col, title, f"right side cut on rows {cut}"))
                    break
                boxes.append(Box(row, col, bottom, right, title))
                break
    return boxes, broken


def box_titled(lines: list[str], words: str) -> Box | None:
    boxes, _ = find_boxes(lines)
    for found in boxes:
        if found.title.startswith(words):
            return found
    return None


def show(lines: list[str]) -> str:
    """For assertion messages: the screen with row numbers."""
    return "\n" + "\n".join(f"{n:3} {line}" for n, line in enumerate(lines))


def green_colours(app: App[object]) -> set[str]:
    """The foreground colours of the screen's text that are the theme's greens."""
    greens = {
        app.theme_variables[name].lower()
        for name in ("status-passed", "health-up", "banner-green-fg")
    }
    found = set()
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            colour = segment.style.color if segment.style else None
            if segment.text.strip() and colour is not None and colour.triplet is not None:
                hex_colour = colour.triplet.hex.lower()
                if hex_colour in greens:
                    found.add(f"{hex_colour} on {segment.text!r}")
    return found
