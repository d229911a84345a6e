"""Operator commands print their own output only: library log lines (Piccolo's INFO, Litestar's)
stay out unless asked for with -v."""

from __future__ import annotations

from tests.test_health_and_cli import cli


async def test_a_command_prints_no_library_log_lines(service_env):
    done = cli(service_env, "audit", "verify")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("audit verify: ")
    assert "INFO" not in done.stdout + done.stderr


async def test_verbose_flag_shows_info_logs_on_stderr(service_env):
    done = cli(service_env, "-v", "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("audit verify: ")
    assert "INFO" not in done.stdout
    assert "INFO" in done.stderr and "piccolo" in done.stderr
