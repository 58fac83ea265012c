"""Build hook: ship the top-level ``templates/`` and ``migrations/`` inside the wheel.

The project keeps them at the top level (the house layout); an installed wheel finds them at
``lims/_bundled/`` (see ``lims._resource_dir``). Metadata lives in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithBundledResources(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in ("templates", "migrations"):
            target = Path(self.build_lib) / "lims" / "_bundled" / name
            shutil.copytree(
                ROOT / name,
                target,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )


setup(cmdclass={"build_py": BuildWithBundledResources})
