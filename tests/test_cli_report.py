"""``odediag stiffness-report`` through click's CliRunner."""

from __future__ import annotations

import json

import pytest
import xarray as xr
from click.testing import CliRunner
from test_stiffness import DOPRI5_BOUND, make_trace

from odediag_cli.main import cli


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def stiff_file(tmp_path):
    z = [-0.2] * 10 + [-0.95 * DOPRI5_BOUND] * 20
    path = tmp_path / "stiff.nc"
    make_trace(z, h=[0.01] * 10 + [0.02] * 20).to_netcdf(path)
    return path


def test_text_report_goes_to_stdout(runner, stiff_file):
    result = runner.invoke(cli, ["stiffness-report", str(stiff_file)])
    assert result.exit_code == 0
    assert "Verdict: STIFF from t ≈ 0.1" in result.output


def test_json_report_is_parseable_with_the_summary(runner, stiff_file):
    result = runner.invoke(cli, ["stiffness-report", str(stiff_file), "-f", "json"])
    summary = json.loads(result.output)
    assert (summary["stiff"], summary["n_accepted"]) == (True, 30)


def test_html_report_and_figures_land_in_the_folder(runner, stiff_file, tmp_path):
    out = tmp_path / "report"
    args = ["stiffness-report", str(stiff_file), "--format", "html", "-o", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0
    assert {p.name for p in out.iterdir()} == {
        "report.html",
        "step_size.png",
        "h_lambda.png",
        "spectrum.png",
        "error_ratio.png",
    }


def test_threshold_option_changes_the_attribution(runner, stiff_file):
    args = ["stiffness-report", str(stiff_file), "-f", "json", "--threshold", "0.99"]
    summary = json.loads(runner.invoke(cli, args).output)
    assert summary["stiff"] is False


def _missing(tmp_path):
    return tmp_path / "nowhere.nc"


def _not_netcdf(tmp_path):
    path = tmp_path / "text.nc"
    path.write_text("this is not netCDF\n")
    return path


def _not_a_trace(tmp_path):
    path = tmp_path / "other.nc"
    xr.Dataset({"x": ("a", [1.0, 2.0])}).to_netcdf(path)
    return path


def _no_step_size(tmp_path):
    path = tmp_path / "no_h.nc"
    make_trace([-1.0, -1.0]).drop_vars("h").to_netcdf(path)
    return path


def _empty_trace(tmp_path):
    path = tmp_path / "empty.nc"
    make_trace([-1.0, -1.0]).isel(step=slice(0, 0)).to_netcdf(path)
    return path


def _directory(tmp_path):
    path = tmp_path / "traces"
    path.mkdir()
    return path


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (_missing, "no such file"),
        (_directory, "is a directory; give a trace file"),
        (_not_netcdf, "not a netCDF file"),
        (_not_a_trace, "not an odediag trace"),
        (_no_step_size, "missing h"),
        (_empty_trace, "empty trace"),
    ],
)
def test_bad_input_is_one_line_on_stderr(runner, tmp_path, make_input, message):
    result = runner.invoke(cli, ["stiffness-report", str(make_input(tmp_path))])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_command_has_help_text(runner):
    result = runner.invoke(cli, ["stiffness-report", "--help"])
    assert result.exit_code == 0 and "stiff" in result.output


def test_stiff_intervals_stay_inside_the_traced_span(runner, tmp_path):
    z = [-0.2] * 10 + [-0.95 * DOPRI5_BOUND] * 20
    trace = make_trace(z, h=[0.01] * 10 + [0.02] * 20).assign_attrs(t_end=0.49)
    trace.to_netcdf(tmp_path / "short.nc")
    args = ["stiffness-report", str(tmp_path / "short.nc"), "-f", "json"]
    summary = json.loads(runner.invoke(cli, args).output)
    assert summary["stiff_intervals"][-1][1] == 0.49


def _file_as_folder(tmp_path):
    path = tmp_path / "out"
    path.write_text("x")
    return path


def _folder_under_a_file(tmp_path):
    (tmp_path / "sub").write_text("x")
    return tmp_path / "sub" / "out"


@pytest.mark.parametrize(
    ("make_folder", "message"),
    [(_file_as_folder, "it is a file"), (_folder_under_a_file, "cannot write")],
)
def test_unusable_output_dir_is_one_line(
    runner, stiff_file, tmp_path, make_folder, message
):
    folder = make_folder(tmp_path)
    result = runner.invoke(
        cli, ["stiffness-report", str(stiff_file), "-o", str(folder)]
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "--output-dir" in lines[0]
