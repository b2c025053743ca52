"""The README's blocks are marked so that its test can run them (tests/readme_blocks.py), and
every command in them has the form that works in a fresh shell."""

from __future__ import annotations

import re

import pytest

from tests.readme_blocks import README, blocks, runnable_blocks, script, split_output

pytestmark = pytest.mark.unit


def test_every_fence_attribute_is_known_and_sh_blocks_are_run_or_marked():
    found = blocks(README.read_text())
    assert len([b for b in found if b.runnable]) >= 6
    assert all(b.lang for b in found), "a fence without a language is neither run nor marked"
    assert all(b.lang == "sh" for b in found if b.expects), "expect= only makes sense on a block that runs"


def test_commands_use_the_forms_that_work_without_a_virtualenv():
    """`openstack` and `neutrino` exist only in .venv: the README says ./dev openstack/neutrino."""
    for block in runnable_blocks():
        for line in block.text.splitlines():
            words = re.split(r"[\s;&|()$]+", line.split("#", 1)[0])
            for bare in ("openstack", "neutrino"):
                assert not any(
                    word == bare and (i == 0 or words[i - 1] not in ("./dev",)) for i, word in enumerate(words)
                ), f"README line {block.line}: bare `{bare}` in {line!r}"


def test_unknown_fence_attributes_are_refused():
    with pytest.raises(ValueError, match="unknown fence attribute"):
        blocks("```sh expct=x\necho\n```\n")


def test_script_marks_blocks_and_output_splits_back():
    parsed = blocks('```sh expect="hi"\necho hi\n```\n```sh norun\nexit 1\n```\n```toml\nx = 1\n```\n')
    run = [b for b in parsed if b.runnable]
    assert [b.expects for b in run] == [["hi"]]
    text = script(run)
    assert "echo hi" in text and "exit 1" not in text and "x = 1" not in text
    out = split_output("@@block 1 (README.md line 1)\n+ echo hi\nhi\n+ set +x\n@@block end\n")
    assert out["1"] == "+ echo hi\nhi\n" and out["end"] == ""
