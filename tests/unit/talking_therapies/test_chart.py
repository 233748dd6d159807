"""The chart's geometry: one time axis for every panel, caseness lines, reliable-change bands."""

import datetime as dt

from wholecare.talking_therapies.chart import PANEL_HEIGHT, Series, build

D = dt.date(2026, 1, 5)


def test_panels_share_the_time_axis_and_mark_caseness_and_reliable_change():
    phq = Series("PHQ-9", "score", 0, 27, ((D, 18), (D + dt.timedelta(days=70), 6)), 10, 6)
    hba1c = Series("HbA1c", "mmol/mol", 20, 200, ((D + dt.timedelta(days=35), 68),))
    chart = build([phq, hba1c])
    assert chart is not None
    first, marker = chart.panels
    assert first.points[0].x == chart.left
    assert first.points[-1].x == chart.right
    assert chart.left < marker.points[0].x < chart.right
    assert abs(marker.points[0].x - (chart.left + chart.right) / 2) < 1
    assert marker.top == PANEL_HEIGHT
    assert first.caseness_y is not None
    assert first.plot_top < first.caseness_y < first.plot_bottom
    assert first.band is not None
    top, bottom = first.band
    assert top < bottom
    assert first.band_label == "No reliable change: 12 to 24"
    assert first.points[0].y < first.points[1].y, "higher scores are drawn higher"
    assert marker.caseness_y is None
    assert marker.band is None


def test_no_points_no_chart():
    assert build([Series("PHQ-9", "score", 0, 27, ())]) is None


def test_each_point_keeps_its_note_when_sorted_by_date():
    later, earlier = D + dt.timedelta(days=30), D
    hba1c = Series(
        "HbA1c",
        "mmol/mol",
        20,
        200,
        ((later, 64), (earlier, 53)),
        notes=("", "Sent by the GP system, as 7 %"),
    )
    chart = build([hba1c])
    assert chart is not None
    assert [(p.day, p.note) for p in chart.panels[0].points] == [
        (earlier, "Sent by the GP system, as 7 %"),
        (later, ""),
    ]
