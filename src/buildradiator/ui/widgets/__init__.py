"""The widgets of the radiator. They only render what the app hands them; none does I/O."""

from buildradiator.ui.widgets.banner import Banner
from buildradiator.ui.widgets.help import HelpScreen
from buildradiator.ui.widgets.inflight import InFlight
from buildradiator.ui.widgets.pipelines import MainBranches
from buildradiator.ui.widgets.production import Production
from buildradiator.ui.widgets.rows import RowsTable
from buildradiator.ui.widgets.statusbar import StatusBar
from buildradiator.ui.widgets.summary import CompactSummary, Flaky
from buildradiator.ui.widgets.targets import Targets

__all__ = [
    "Banner",
    "CompactSummary",
    "Flaky",
    "HelpScreen",
    "InFlight",
    "MainBranches",
    "Production",
    "RowsTable",
    "StatusBar",
    "Targets",
]
