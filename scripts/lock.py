#!/usr/bin/env python3
"""Refresh the dependency locks, ``requirements/*.txt``, from pyproject.toml (``make lock``).

One universal resolution (every platform, Python 3.11+) of everything the dev venv installs
decides every version; the Lambda locks are the same resolution, narrowed to what each zip
ships, so the versions the tests run are the versions the zips carry:

    requirements/dev.txt             the dev venv: all extras and the build backend (hatchling)
    requirements/dashboard.txt       dashboard.zip: [project].dependencies + the dashboard extra
    requirements/sse.txt             sse.zip: [project].dependencies + the sse extra
    requirements/lambda-runtime.txt  boto3 as the Lambda runtime provides it (the smoke test's
                                     stand-in for /var/runtime, and ``package.py --bundle-boto3``)

The Lambda locks leave boto3, botocore and s3transfer out (the runtime provides them) but keep
whatever else needs their dependencies. Every pin carries the sha256 of every file PyPI has for
it (all wheels, every platform), so ``pip --require-hashes`` refuses anything else whatever
platform a zip is built for. The files name no index: pip's configuration decides where files
come from, the hashes decide what is accepted.

    python scripts/lock.py              # keep existing pins where the ranges still allow them
    python scripts/lock.py --upgrade    # move every pin to the newest release the ranges allow
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "requirements"
# The oldest Python we support; a universal resolution covers it and everything newer.
MIN_PYTHON = "3.11"
COMMAND = "make lock"
DESCRIPTION = "Refresh requirements/*.txt from the ranges in pyproject.toml."


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        raise SystemExit("uv is not installed: `make .venv/.installed-stamp` installs it")
    return found


def compile_lock(
    sources: list[Path], output: Path, *, extras: bool, constraints: Path | None, upgrade: bool
) -> None:
    command = [
        uv(),
        "pip",
        "compile",
        "--quiet",
        "--universal",
        "--python-version",
        MIN_PYTHON,
        "--generate-hashes",
        "--custom-compile-command",
        COMMAND,
        "--output-file",
        str(output),
        *map(str, sources),
    ]
    if extras:
        command.append("--all-extras")
    if constraints is not None:
        command += ["--constraints", str(constraints)]
    if upgrade:
        command.append("--upgrade")
    subprocess.run(command, check=True, cwd=ROOT)  # noqa: S603 - uv, fixed arguments
    print(f"lock | wrote {output.relative_to(ROOT)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/lock.py", description=DESCRIPTION)
    parser.add_argument("--upgrade", action="store_true", help="newest releases the ranges allow")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from scripts.package import FUNCTIONS, requirements

    pyproject = ROOT / "pyproject.toml"
    build_requires = tomllib.loads(pyproject.read_text())["build-system"]["requires"]
    LOCKS.mkdir(exist_ok=True)
    dev = LOCKS / "dev.txt"
    # Inputs at a fixed path: uv names them in the locks' "# via" comments.
    inputs = ROOT / "build" / "lock"
    inputs.mkdir(parents=True, exist_ok=True)

    def source(name: str, specs: list[str]) -> Path:
        path = inputs / f"{name}.in"
        path.write_text("\n".join(specs) + "\n")
        return path.relative_to(ROOT)

    # The editable install of the project needs its build backend: locked like the rest.
    build = source("build", build_requires)
    compile_lock([pyproject, build], dev, extras=True, constraints=None, upgrade=args.upgrade)
    # Narrowed from dev.txt: never a version the dev venv does not test.
    for function in FUNCTIONS:
        specs = requirements(function, bundle_boto3=False)
        compile_lock(
            [source(function, specs)],
            LOCKS / f"{function}.txt",
            extras=False,
            constraints=dev,
            upgrade=False,
        )
    compile_lock(
        [source("lambda-runtime", requirements("runtime", bundle_boto3=True))],
        LOCKS / "lambda-runtime.txt",
        extras=False,
        constraints=dev,
        upgrade=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
