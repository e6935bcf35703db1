"""The ``/`` filter line: typed words narrow Main branches as they are typed."""

from __future__ import annotations

from textual.widgets import Input


class FilterBar(Input):
    """Hidden until ``/``; stays visible (with its words) while a filter is active."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="filter: name, group, author or status (esc clears)",
            id=id,
            compact=True,
        )
        self.can_focus = False  # hidden widgets must not take the start-up focus

    def reveal(self) -> None:
        self.display = True
        self.can_focus = True
        self.focus()

    def conceal(self) -> None:
        """Hidden and out of the focus chain (tab must not land in an invisible input)."""
        self.display = False
        self.can_focus = False
