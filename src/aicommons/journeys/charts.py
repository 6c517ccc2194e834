"""The dashboard's charts, laid out for the bar-chart macro: the funnel, each step's conversion month by
month, and the reuse of the community's insights."""

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from aicommons.journeys.models import Stage
from aicommons.journeys.service import Dashboard, MonthFigures, StageCount, Step
from aicommons.web.charts import Bar, Chart, Label

WIDTH = 320
LABEL_WIDTH = 96
ROW_HEIGHT = 20
PLOT_HEIGHT = 100
LEFT = 34  # room for the percentages on the left of a monthly chart
AXIS = 14  # room for the months below it
CHART_ROWS = 10  # bars of a ranked chart at most: the largest
STEPS = list(pairwise(Stage))


@dataclass(frozen=True)
class Row:
    """One bar of a ranked chart: its label, its figure, and the sentence its tooltip reads."""

    label: str
    value: int
    title: str


def ranked(rows: Sequence[Row]) -> Chart | None:
    """Horizontal bars, one a row, longest for the largest figure; None when there is nothing to draw."""
    rows = rows[:CHART_ROWS]
    top = max((row.value for row in rows), default=0)
    if top == 0:
        return None
    span = WIDTH - LABEL_WIDTH - 40
    bars, labels = [], []
    for number, row in enumerate(rows):
        width, y = max(1.0, round(span * row.value / top, 1)), number * ROW_HEIGHT
        bars.append(Bar(LABEL_WIDTH, y + 4, width, ROW_HEIGHT - 8, row.title))
        labels.append(Label(LABEL_WIDTH - 4, y + 14, _shortened(row.label), "end"))
        labels.append(Label(LABEL_WIDTH + width + 4, y + 14, str(row.value)))
    return Chart("ranked", WIDTH, ROW_HEIGHT * len(rows), bars, labels)


@dataclass(frozen=True)
class DashboardCharts:
    """Every chart of a dashboard; a chart with nothing to draw is None."""

    funnel: Chart | None
    steps: list[tuple[tuple[Stage, Stage], Chart]]
    by_community: Chart | None
    by_sector: Chart | None
    insights: Chart | None
    reused_from: Chart | None


def dashboard_charts(found: Dashboard) -> DashboardCharts:
    reuse = found.reuse
    return DashboardCharts(
        funnel=ranked([Row(c.stage.capitalize(), c.reached, _funnel_title(c)) for c in found.funnel]),
        steps=[(step, conversion(found.months, number)) for number, step in enumerate(STEPS)],
        by_community=ranked([_reuses(row.name, row.reuses) for row in reuse.by_community]),
        by_sector=ranked([_reuses(row.sector.replace("-", " "), row.reuses) for row in reuse.by_sector]),
        insights=ranked([_reuses(f"Insight {row.insight}", row.reuses) for row in reuse.insights]),
        reused_from=ranked([_reuses(row.name, row.reuses) for row in reuse.reused_from]),
    )


def _funnel_title(count: StageCount) -> str:
    return f"{count.stage.capitalize()}: {count.reached} reached it, {count.members} at this stage now"


def _reuses(label: str, count: int) -> Row:
    return Row(label, count, f"{label}: {count} reuse{'s' if count != 1 else ''}")


def conversion(months: Sequence[MonthFigures], step: int) -> Chart:
    """One step of the funnel (joined → contributed, …): a bar a month, as high as its share."""
    width = (WIDTH - LEFT) / len(months)
    bars = []
    for number, figures in enumerate(months):
        moved = figures.steps[step]
        height = round(PLOT_HEIGHT * (moved.share or 0), 1)
        x = round(LEFT + number * width, 1)
        bars.append(Bar(x, PLOT_HEIGHT - height, round(max(width - 2, 1), 1), height, _told(figures, moved)))
    return Chart("conversion", WIDTH, PLOT_HEIGHT + AXIS + 4, bars, _month_labels(months))


def _told(figures: MonthFigures, moved: Step) -> str:
    month = f"{figures.month:%b %Y}"
    if moved.share is None:
        return f"{month}: nobody had {moved.from_stage} yet"
    share, reached = f"{100 * moved.share:.0f}%", figures.reached[moved.from_stage]
    return f"{month}: {share} of the {reached} {moved.from_stage} or beyond had {moved.to_stage}"


def _month_labels(months: Sequence[MonthFigures]) -> list[Label]:
    axis = PLOT_HEIGHT + AXIS
    return [
        Label(LEFT - 4, 9, "100%", "end"),
        Label(LEFT - 4, PLOT_HEIGHT, "0%", "end"),
        Label(LEFT, axis, f"{months[0].month:%b %Y}"),
        Label(WIDTH, axis, f"{months[-1].month:%b %Y}", "end"),
    ]


def _shortened(text: str, most: int = 16) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
