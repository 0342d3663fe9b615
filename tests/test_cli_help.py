"""The command line as a new user meets it: help with examples, one --jobs default, progress bars
only on a terminal."""

from __future__ import annotations

import os

import pytest

from pigmentscan.cli import DEFAULT_JOBS, build_parser, main
from pigmentscan.data import sample_images

COMMANDS = ("score", "batch", "calibrate", "validate", "compare")


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_ends_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    example = text[text.index("example:"):]
    assert f"pigmentscan {command} " in example


def test_validate_help_lists_the_reference_columns(capsys):
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for column in ("PREFIXmasi", "PREFIXmmasi", "PREFIX<region>_area", "PREFIX<region>_darkness",
                   "PREFIX<region>_homogeneity", "right_malar"):
        assert column in text


def test_jobs_has_one_default_everywhere_and_the_help_says_which(capsys):
    parser = build_parser()
    defaults = {parser.parse_args([c, "x.csv", "--out", "o"] + (["--reference", "m.csv"] if c == "validate" else []))
                .__dict__.get("jobs") for c in ("score", "batch", "calibrate")}
    assert defaults == {DEFAULT_JOBS}
    for command in ("score", "batch", "calibrate"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert f"default: all cores, {os.cpu_count() or 1} here" in text  # what the help promises is what runs


def test_score_shows_progress_on_request_and_is_quiet_off_a_terminal(tmp_path, capsys):
    from pigmentscan import score_images

    score_images(sample_images("grace_hopper.jpg"), progress=True)
    err = capsys.readouterr().err
    assert "scoring" in err and "1/1" in err and "photo/s" in err  # the bar: done/total, rate
    # the command line draws it only on a terminal; captured stderr is not one
    assert main(["score", str(sample_images("grace_hopper.jpg")[0]), "--out", str(tmp_path / "s.csv"),
                 "--jobs", "1"]) == 0
    assert "photo/s" not in capsys.readouterr().err
