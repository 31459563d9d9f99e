"""What ``cgocheck doctor`` saw beside its findings: `go env` as the shell and as the hermetic
build see it, and, with --build, how the shell's own build differs from the hermetic one."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ShellEnvironment:
    go_env_shell: dict[str, str] = field(default_factory=dict)
    go_env_hermetic: dict[str, str] = field(default_factory=dict)
    diffs: list[tuple[str, str, str]] = field(default_factory=list)  # (fact, shell build, hermetic build)
    shell_build_ok: bool | None = None
    shell_build_log: str = ""
