"""Operator commands print their own output only: library log lines (Piccolo's INFO, Litestar's)
stay out unless asked for with -v."""

from __future__ import annotations

from tests.test_health_and_cli import cli


async def test_a_command_prints_no_library_log_lines(service_env):
    done = cli(service_env, "audit", "verify")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("audit verify: ")
    assert "INFO" not in done.stdout + done.stderr


async def test_verbose_flags_show_library_logs_on_stderr(service_env):
    """-v keeps INFO (nothing below it), -vv DEBUG too (here the database driver's lines); the
    command's own output stays alone on stdout either way."""
    done = cli(service_env, "-v", "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("audit verify: ") and "DEBUG" not in done.stderr
    done = cli(service_env, "-vv", "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("audit verify: ") and "INFO" not in done.stdout and "DEBUG" not in done.stdout
    assert "DEBUG" in done.stderr
