"""The widgets of the radiator. They only render what the app hands them; none does I/O."""

from buildradiator.widgets.banner import Banner
from buildradiator.widgets.help import HelpScreen
from buildradiator.widgets.inflight import InFlight
from buildradiator.widgets.pipelines import MainBranches
from buildradiator.widgets.production import Production
from buildradiator.widgets.rows import RowsTable
from buildradiator.widgets.statusbar import StatusBar
from buildradiator.widgets.summary import CompactSummary, Flaky
from buildradiator.widgets.targets import Targets

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
