from __future__ import annotations

from collections.abc import Callable

from trellis import __version__


def test_version(cli: Callable[..., object]) -> None:
    result = cli("--version")
    assert result.code == 0  # type: ignore[attr-defined]
    assert __version__ in result.out  # type: ignore[attr-defined]


def test_bad_port_is_one_line_exit_2(cli: Callable[..., object]) -> None:
    result = cli("serve", "--port", "http")
    assert result.code == 2  # type: ignore[attr-defined]
    assert result.out == ""  # type: ignore[attr-defined]
    lines = result.err.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1
    assert "--port" in lines[0]


def test_unknown_command_is_one_line_exit_2(cli: Callable[..., object]) -> None:
    result = cli("frobnicate")
    assert result.code == 2  # type: ignore[attr-defined]
    assert len(result.err.strip().splitlines()) == 1  # type: ignore[attr-defined]
