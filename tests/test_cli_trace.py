"""``odediag trace`` from the command line, through click's CliRunner."""

from __future__ import annotations

import textwrap

import click
import pytest
import xarray as xr
from click.testing import CliRunner

from odediag_cli.main import cli


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_text(name):
    command = cli.commands[name]
    assert isinstance(command, click.Command)
    assert command.help and len(command.help.strip()) > 20


def test_trace_without_problem_traces_the_shipped_moons_model(run, tmp_path):
    result = run("trace")
    assert result.exit_code == 0, result.output
    ds = xr.open_dataset(tmp_path / "trace.nc")
    assert ds.attrs["problem"].startswith("moons-model")
    assert ds.sizes["sample"] > 100 and ds.attrs["status"] == "success"
    assert "verdict" in result.output


def test_bad_checkpoint_gives_one_line(run, tmp_path):
    (tmp_path / "model.pt").write_bytes(b"not a checkpoint")
    result = run("trace", "model.pt")
    assert result.exit_code != 0 and "checkpoint" in result.output
    assert "Traceback" not in result.output


def test_trace_builtin_writes_netcdf_that_xarray_opens(run, tmp_path):
    result = run("trace", "vdp", "-p", "mu=5", "--t-span", "0", "3", "-o", "v.nc")
    assert result.exit_code == 0, result.output
    ds = xr.open_dataset(tmp_path / "v.nc")
    assert ds.attrs["problem"] == "vdp" and ds.attrs["status"] == "success"
    assert "spectral_radius" in ds
    assert f"NFE         {ds.attrs['nfe_total']}" in result.output


def test_trace_linear_eigenvalues_param_sets_the_spectrum(run, tmp_path):
    result = run("trace", "linear", "-p", "eigenvalues=-2,-30", "-p", "t_end=1")
    assert result.exit_code == 0, result.output
    ds = xr.open_dataset(tmp_path / "trace.nc")
    accepted = ds.where(ds.accepted, drop=True)
    assert float(accepted.stiffness_ratio.min()) == pytest.approx(15.0)


def test_trace_user_file_problem(run, tmp_path):
    (tmp_path / "my_ode.py").write_text(
        textwrap.dedent("""
        import odediag

        def decay():
            return odediag.Problem(lambda t, y: -3 * y, [1.0, 2.0], (0.0, 1.0),
                                   name="decay")
    """)
    )
    result = run("trace", "my_ode.py:decay", "--no-spectrum", "-o", "d.nc")
    assert result.exit_code == 0, result.output
    ds = xr.open_dataset(tmp_path / "d.nc")
    assert ds.attrs["problem"] == "decay" and "spectral_radius" not in ds


def test_trace_module_problem(run, tmp_path, monkeypatch):
    (tmp_path / "odes_pkg").mkdir()
    (tmp_path / "odes_pkg" / "__init__.py").write_text(
        "import odediag\n"
        "GROWTH = odediag.Problem(\n"
        "    lambda t, y: 0.5 * y, [1.0], (0.0, 2.0), name='growth'\n"
        ")\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    result = run("trace", "odes_pkg:GROWTH", "-o", "g.nc")
    assert result.exit_code == 0, result.output
    ds = xr.open_dataset(tmp_path / "g.nc")
    assert ds.attrs["problem"] == "growth"
    assert float(ds.eig_real.max()) == pytest.approx(0.5)


def test_failed_solve_saves_partial_trace_and_exits_nonzero(run, tmp_path):
    result = run("trace", "rober", "--max-steps", "50", "-o", "r.nc")
    assert result.exit_code != 0
    ds = xr.open_dataset(tmp_path / "r.nc")
    assert ds.attrs["status"] == "max_steps" and ds.sizes["step"] == 50


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch"], "choose one of"),
        (["vdp", "--method", "rk45"], "choose one of"),
        (["vdp", "--method", "scipy:Foo"], "SciPy methods"),
        (["missing.py:P"], "no such file"),
        (["os:nothing_here"], "defines no object"),
        (["os:getcwd"], "not an odediag.Problem"),
        (["vdp", "-p", "mu"], "KEY=VALUE"),
        (["vdp", "-p", "nu=3"], "takes these parameters"),
        (["linear", "-p", "eigenvalues=a,b"], "comma-separated"),
        (["vdp", "--rtol", "0"], "not a positive"),
        (["vdp", "--atol", "-1e-9"], "not a positive"),
        (["vdp", "-p", "mu=nan"], "finite"),
        (["vdpol", "-p", "eps=0"], "> 0"),
        (["vdp", "--method", ""], "give one of"),
        (["vdp", "--t-span", "1", "1"], "empty or decreasing"),
        (["vdp", "--t-span", "0", "inf"], "finite"),
        (["vdp", "-o", "no/such/dir/t.nc"], "does not exist"),
        (["vdp", "-o", "."], "directory"),
        (["vdp", "--max-steps", "0"], "at least 1"),
    ],
)
def test_bad_input_gives_one_line_and_nonzero_exit(run, args, message):
    result = run("trace", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_ctrl_c_keeps_the_partial_trace(run, tmp_path):
    (tmp_path / "slow.py").write_text(
        "import odediag\n"
        "calls = 0\n"
        "def f(t, y):\n"
        "    global calls\n"
        "    calls += 1\n"
        "    if calls == 200:\n"
        "        raise KeyboardInterrupt\n"
        "    return -y\n"
        "P = odediag.Problem(f, [1.0], (0.0, 1000.0), name='slow')\n"
    )
    result = run("trace", "slow.py:P", "-o", "slow.nc")
    assert result.exit_code == 130
    ds = xr.open_dataset(tmp_path / "slow.nc")
    assert ds.attrs["status"] == "interrupted" and ds.sizes["step"] > 10


def test_unwritable_output_is_refused_before_solving(run, tmp_path):
    (tmp_path / "afile").write_text("")
    result = run("trace", "vdp", "-o", "afile/trace.nc")
    assert result.exit_code != 0 and "tracing" not in result.output


def test_factory_raising_gives_one_line(run, tmp_path):
    (tmp_path / "boom.py").write_text("def make():\n    raise RuntimeError('boom')\n")
    result = run("trace", "boom.py:make")
    assert result.exit_code != 0
    assert "calling boom.py:make failed: RuntimeError: boom" in result.output
    assert "unexpected" not in result.output


def test_non_finite_initial_state_is_rejected(run, tmp_path):
    (tmp_path / "bad.py").write_text(
        "import odediag\n"
        "def bad():\n"
        "    return odediag.Problem(lambda t, y: -y, [float('nan')], (0, 1))\n"
    )
    result = run("trace", "bad.py:bad")
    assert result.exit_code != 0 and "finite" in result.output
