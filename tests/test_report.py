"""Stiffness reports: text, JSON, figures and the self-contained HTML page."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from test_stiffness import DOPRI5_BOUND, make_trace

from odediag import OdediagInputError
from odediag.report import render_figures, report_json, report_text, stiffness_report
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
