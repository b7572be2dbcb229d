"""Fidelity patches for moto, applied by launcher.py before the server starts.

Each submodule patches one service and exposes apply(). Every patch is
minimal, cites the AWS documentation it restores, and has a test in
internal/emulator/moto/tests that fails on unpatched moto.
"""

import importlib

# Submodules applied in order. Add a module name here when you add a patch file.
MODULES: list[str] = ["cloudtrail", "control", "sns", "events", "organizations", "iam", "dynamodb", "cloudtrail_keys", "securityhub"]


def apply() -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}").apply()
