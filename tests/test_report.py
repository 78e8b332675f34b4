"""Stiffness reports: text, JSON, figures and the self-contained HTML page."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from matplotlib.colors import Normalize, SymLogNorm
from test_stiffness import DOPRI5_BOUND, make_trace

from odediag import OdediagInputError
from odediag.report import (
    figure_error_ratio,
    figure_h_lambda,
    figure_step_size,
    render_figures,
    report_json,
    report_text,
    stiffness_report,
)
from odediag.report._figures import SYMLOG_TICKS, _symlog_ticks
from odediag.stiffness import analyse

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def stiff_trace():
    z = [-0.2] * 10 + [-0.95 * DOPRI5_BOUND] * 20
    return make_trace(z, h=[0.01] * 10 + [0.02] * 20)


@pytest.fixture
def calm_trace():
    return make_trace([-0.3] * 30)


@pytest.fixture
def bare_trace():
    """No spectrum, no Hairer estimate, no error ratio: a fixed-grid solve."""
    trace = make_trace(accepted=[True] * 12, method="rk4")
    trace["error_ratio"][:] = np.nan
    return trace


def test_text_report_states_the_verdict_and_onset(stiff_trace):
    text = report_text(stiff_trace, analyse(stiff_trace))
    assert "Verdict: STIFF from t ≈ 0.1" in text


def test_text_report_of_calm_trace_says_not_stiff(calm_trace):
    assert "Verdict: NOT STIFF" in report_text(calm_trace, analyse(calm_trace))


def test_text_report_explains_the_rule_to_a_newcomer(stiff_trace):
    text = report_text(stiff_trace, analyse(stiff_trace))
    assert "How to read this" in text and "0.8" in text


def test_text_report_fits_88_columns(stiff_trace):
    text = report_text(stiff_trace, analyse(stiff_trace))
    assert max(len(line) for line in text.splitlines()) <= 88


def test_text_report_without_spectrum_points_to_the_option(bare_trace):
    text = report_text(bare_trace, analyse(bare_trace))
    assert "--spectrum" in text


@pytest.mark.parametrize(
    "key",
    [
        "stiff",
        "stiff_onset",
        "stiff_intervals",
        "stability_limited_fraction",
        "nfe_total",
        "n_accepted",
        "n_rejected",
        "recommendation",
    ],
)
def test_json_report_has_summary_key(stiff_trace, key):
    assert key in json.loads(report_json(analyse(stiff_trace)))


def test_figures_with_spectrum_are_all_png(stiff_trace):
    pngs = render_figures(stiff_trace, analyse(stiff_trace))
    assert sorted(pngs) == ["error_ratio", "h_lambda", "spectrum", "step_size"]
    assert all(png.startswith(PNG_SIGNATURE) for png in pngs.values())


def test_figures_skip_what_the_trace_lacks(bare_trace):
    assert list(render_figures(bare_trace, analyse(bare_trace))) == ["step_size"]


def test_implicit_trace_draws_its_h_lambda_figure():
    trace = make_trace([-1e4] * 8, method="scipy:BDF", order=[5] * 8)
    assert "h_lambda" in render_figures(trace, analyse(trace))


def test_html_report_is_self_contained(stiff_trace, tmp_path):
    path = stiffness_report(stiff_trace, tmp_path, "html")
    page = (tmp_path / "report.html").read_text()
    assert path == str(tmp_path / "report.html")
    assert page.count("data:image/png;base64,") == 4
    assert not re.search(r"""(src|href)=['"]?(https?:|//|file:)""", page)


def test_report_writes_the_figures_into_the_folder(stiff_trace, tmp_path):
    stiffness_report(stiff_trace, tmp_path, "text")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "error_ratio.png",
        "h_lambda.png",
        "spectrum.png",
        "step_size.png",
    ]


@pytest.mark.parametrize(
    ("output_dir", "format_", "match"),
    [
        (None, "pdf", "invalid format 'pdf'"),
        (None, "html", "needs a folder"),
        ("missing-folder", "text", "no such folder"),
    ],
)
def test_report_rejects_bad_format_or_folder(stiff_trace, output_dir, format_, match):
    with pytest.raises(OdediagInputError, match=match):
        stiffness_report(stiff_trace, output_dir, format_)


@pytest.mark.parametrize("module", ["odediag.stability", "odediag.stiffness"])
def test_analysis_layers_do_not_import_matplotlib(module):
    code = f"import sys, {module}; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def _legend_labels(fig) -> list[str]:
    legend = fig.axes[0].get_legend()
    return [] if legend is None else [text.get_text() for text in legend.get_texts()]


def test_step_size_legend_names_only_what_is_drawn(calm_trace):
    fig = figure_step_size(calm_trace, analyse(calm_trace))
    assert _legend_labels(fig) == ["accepted step"]


def test_step_size_legend_names_rejections_and_stiff_intervals_when_present():
    z = [-0.2] * 10 + [-0.95 * DOPRI5_BOUND] * 20 + [np.nan]
    trace = make_trace(z, accepted=[True] * 30 + [False])
    labels = _legend_labels(figure_step_size(trace, analyse(trace)))
    assert {"stiff interval", "rejected step"} <= set(labels)


def test_error_ratio_legend_leaves_out_rejections_that_never_happened(calm_trace):
    labels = _legend_labels(figure_error_ratio(calm_trace, analyse(calm_trace)))
    assert labels == ["accepted", "acceptance limit 1"]


def _geometric_trace():
    """Steps growing tenfold every ten steps from t = 0, as on Robertson's problem."""
    return make_trace([-0.2] * 60, h=1e-4 * 10 ** (np.arange(60) / 10))


@pytest.mark.parametrize(
    ("make", "scale"),
    [(lambda: make_trace([-0.2] * 60), "linear"), (_geometric_trace, "symlog")],
    ids=["even steps", "steps spanning decades"],
)
def test_time_axis_scale_follows_the_spread_of_the_steps(make, scale):
    trace = make()
    fig = figure_step_size(trace, analyse(trace))
    assert fig.axes[0].get_xscale() == scale


def test_log_time_axis_keeps_the_step_at_t_zero():
    trace = _geometric_trace()
    ax = figure_step_size(trace, analyse(trace)).axes[0]
    first = ax.get_lines()[0].get_xdata()
    assert first[0] == 0.0 and ax.get_xlim()[0] <= 0.0


@pytest.mark.parametrize(
    ("make", "norm"),
    [(lambda: make_trace([-0.2] * 60), Normalize), (_geometric_trace, SymLogNorm)],
    ids=["even steps", "steps spanning decades"],
)
def test_h_lambda_colour_scale_follows_the_spread_of_the_steps(make, norm):
    trace = make()
    points = figure_h_lambda(trace, analyse(trace)).axes[0].collections[-1]
    assert type(points.norm) is norm


def test_symlog_ticks_are_thinned_to_a_readable_few():
    ticks = _symlog_ticks(1.0, (-1e14, 10.0))
    assert 0.0 in ticks and -1e12 in ticks
    assert len([x for x in ticks if x < 0]) <= SYMLOG_TICKS


def _growing_trace():
    z = np.zeros((10, 1, 2), complex)
    z[:, 0, 0], z[:, 0, 1] = -0.001, 0.02
    return make_trace(z)


def test_text_report_says_when_the_largest_modes_grow():
    trace = _growing_trace()
    text = " ".join(report_text(trace, analyse(trace)).split())
    assert "growing modes (Re λ > 0)" in text and "up to +2" in text


def test_text_report_is_silent_about_growth_without_growing_modes(stiff_trace):
    assert "growing modes" not in report_text(stiff_trace, analyse(stiff_trace))


def test_h_lambda_legend_marks_growing_modes():
    trace = _growing_trace()
    labels = _legend_labels(figure_h_lambda(trace, analyse(trace)))
    assert any(label.startswith("growing modes") for label in labels)


def test_html_caption_explains_growing_modes(tmp_path):
    stiffness_report(_growing_trace(), tmp_path, "html")
    assert "Triangles are growing modes" in (tmp_path / "report.html").read_text()


def test_margin_line_names_its_statistics(stiff_trace):
    text = " ".join(report_text(stiff_trace, analyse(stiff_trace)).split())
    assert "largest decaying mode per step (median / p90 / max):" in text


def _unknown_method():
    return make_trace([-0.95 * DOPRI5_BOUND] * 10, method="bogus")


def _no_step_sizes():
    trace = make_trace([-0.95 * DOPRI5_BOUND] * 10)
    trace["h"][:] = np.nan
    return trace


def _all_rejected():
    return make_trace([-2.0] * 6, accepted=[False] * 6)


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_unknown_method, "region of method 'bogus' is unknown"),
        (_no_step_sizes, "no finite step size h"),
        (_all_rejected, "accepted no step"),
    ],
    ids=["unknown-method", "no-step-sizes", "all-rejected"],
)
def test_report_of_a_trace_without_usable_h_lambda_says_why(make, says, tmp_path):
    trace = make()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = stiffness_report(trace)
        json.loads(stiffness_report(trace, format="json"))
        stiffness_report(trace, tmp_path, "html")
    assert says in " ".join(text.split())
    assert (tmp_path / "report.html").is_file()


def test_h_lambda_figure_over_an_unknown_region_says_which_it_draws():
    trace = _unknown_method()
    fig = figure_h_lambda(trace, analyse(trace))
    assert "that of 'bogus' is unknown" in fig.axes[0].get_title()
