"""The claim dialog in a tiny app, driven with Pilot."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import Input, Static

from buildradiator.ui import claims as claims_module
from buildradiator.ui.widgets.claim import ClaimScreen

MARKUP_NAME = "[bold red]acme/monolith[/] [link=http://evil]x[/link]\x1b[31m"


class DialogApp(App[None]):
    def __init__(self, screen: ClaimScreen) -> None:
        super().__init__()
        self.dialog = screen
        self.results: list[tuple[str, str] | None] = []

    def compose(self) -> ComposeResult:
        yield Static("radiator")

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.results.append)


async def test_enter_confirms_with_default_name_and_a_note() -> None:
    app = DialogApp(ClaimScreen("acme/monolith", default="alice"))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.screen.query_one("#claim-who", Input).value == "alice"
        assert isinstance(app.focused, Input) and app.focused.id == "claim-note"
        await pilot.press(*"bisecting", "enter")
        await pilot.pause()
        assert app.results == [("alice", "bisecting")]
        assert not isinstance(app.screen, ClaimScreen)


async def test_name_can_be_changed_and_enter_works_from_the_name_field() -> None:
    app = DialogApp(ClaimScreen("acme/monolith", default="alice"))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("shift+tab")
        assert app.focused is app.screen.query_one("#claim-who", Input)
        app.screen.query_one("#claim-who", Input).value = ""
        await pilot.press(*"bob", "enter")
        await pilot.pause()
        assert app.results == [("bob", "")]


async def test_escape_cancels() -> None:
    app = DialogApp(ClaimScreen("acme/monolith", default="alice"))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press(*"nope", "escape")
        await pilot.pause()
        assert app.results == [None]
        assert not isinstance(app.screen, ClaimScreen)


async def test_an_empty_name_falls_back_and_text_is_cleaned() -> None:
    app = DialogApp(ClaimScreen("acme/monolith", default="alice"))
    async with app.run_test() as pilot:
        await pilot.pause()
        app.screen.query_one("#claim-who", Input).value = "   "
        app.screen.query_one("#claim-note", Input).value = "see\x1b[31m red\x07 now"
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [("alice", "see red now")]


async def test_default_name_is_the_os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claims_module.getpass, "getuser", lambda: "carol")
    app = DialogApp(ClaimScreen("acme/monolith"))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.screen.query_one("#claim-who", Input).value == "carol"


async def test_pipeline_name_is_plain_text_never_markup() -> None:
    app = DialogApp(ClaimScreen(MARKUP_NAME, default="alice"))
    async with app.run_test() as pilot:
        await pilot.pause()
        heading = app.screen.query_one("#claim-heading", Static).content
        assert isinstance(heading, Text)
        assert heading.plain == (
            "Claim [bold red]acme/monolith[/] [link=http://evil]x[/link]: looking into it"
        )
        assert "\x1b" not in heading.plain
        # What reaches the screen shows the brackets literally.
        widget = app.screen.query_one("#claim-heading", Static)
        lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
        rendered = "".join(segment.text for line in lines for segment in line)
        assert "[bold red]acme/monolith[/]" in rendered
