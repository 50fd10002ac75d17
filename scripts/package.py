#!/usr/bin/env python3
"""Build the two Lambda deployment zips, reproducibly: ``dist/dashboard.zip`` and ``dist/sse.zip``.

Each zip holds, at its root, the shared ``sentiment`` package, the function's own package
(``dashboard`` with its static page, or ``sse``), and the runtime dependencies from
pyproject.toml (``[project].dependencies`` plus the function's extra: mangum or uvicorn) as
wheels for the Lambda platform. The SSE zip also carries ``run.sh`` at its root (the handler
the Lambda Web Adapter executes). boto3/botocore are not bundled unless ``--bundle-boto3``:
the Lambda Python runtime provides them (see docs/deploy.md).

The same inputs give the same bytes: entries are sorted, timestamps fixed (1980-01-01),
permissions fixed (0644, run.sh 0755), and nothing that varies between installs is kept
(installed bytecode, console scripts, ``RECORD``/``INSTALLER``/``direct_url.json``).

Bytecode is compiled afresh by the runtime's own Python (``python3.12`` for 3.12, found on
PATH, in pyenv, or at ``$LAMBDA_RUNTIME_PYTHON``) as unchecked-hash ``.pyc``: /var/task is
read-only, so without it every cold start compiles every module (about 45% of a cold start,
bench/README.md). Without that interpreter, or with ``--no-bytecode``, the zips ship sources
only.

Downloaded wheels and the installed dependency trees are cached under ``build/package``;
a second build does not touch the network.

    python scripts/package.py                       # both zips, python3.12 / x86_64
    python scripts/package.py sse --arch arm64
    python scripts/package.py --runtime-dir build/package/runtime   # boto3 as Lambda provides it
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
FUNCTIONS = ("dashboard", "sse")
ARCHITECTURES = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
# Provided by the Lambda Python runtime (and only bundled on request).
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644
EXEC_MODE = 0o100755
# Files an install writes that differ between installs of the same wheel, or are useless on
# Lambda: bytecode (compiled afresh, see bytecode()), console scripts with a build-machine
# shebang, pip's bookkeeping, and JavaScript source maps (Swagger UI ships 5 MB of them).
SKIP_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
SKIP_SUFFIXES = (".pyc", ".pyo", ".map")
SKIP_DIST_INFO = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
SKIP_TOP_LEVEL = frozenset({"bin", "tests", "test"})


def log(message: str) -> None:
    print(f"package | {message}", flush=True)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    if not match:
        raise SystemExit(f"cannot parse requirement {spec!r} in pyproject.toml")
    return normalize(match.group(1))


@dataclass(frozen=True)
class Target:
    python_version: str  # "3.12"
    arch: str  # "x86_64" | "arm64" (Lambda's names)

    @property
    def platform(self) -> str:
        return ARCHITECTURES[self.arch]

    @property
    def tag(self) -> str:
        return f"cp{self.python_version.replace('.', '')}-{self.platform}"

    def pip_args(self) -> list[str]:
        return [
            "--platform",
            self.platform,
            "--implementation",
            "cp",
            "--python-version",
            self.python_version,
            "--only-binary=:all:",
        ]


def requirements(
    function: str, bundle_boto3: bool, pyproject: Path = ROOT / "pyproject.toml"
) -> list[str]:
    """The function's runtime requirements, as written in pyproject.toml."""
    project = tomllib.loads(pyproject.read_text())["project"]
    specs = list(project["dependencies"]) + list(project["optional-dependencies"][function])
    if not bundle_boto3:
        specs = [s for s in specs if requirement_name(s) not in RUNTIME_PROVIDED]
    return sorted(specs, key=requirement_name)


def pip(*args: str, quiet: bool) -> None:
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check"]
    if quiet:
        command.append("--quiet")
    subprocess.run(command, check=True)  # noqa: S603 - our own interpreter, fixed arguments


def install_site(
    specs: list[str],
    target: Target,
    build_dir: Path,
    *,
    reinstall: bool,
    offline: bool,
    quiet: bool,
) -> Path:
    """Install ``specs`` for ``target`` into a cached directory; returns it."""
    key = hashlib.sha256(json.dumps([specs, target.tag]).encode()).hexdigest()[:16]
    site = build_dir / "site" / f"{target.tag}-{key}"
    marker = site / ".complete"
    if marker.exists() and not reinstall:
        log(f"dependencies: reusing {display(site)}")
        return site
    wheels = build_dir / "wheels" / target.tag
    wheels.mkdir(parents=True, exist_ok=True)
    if not offline:
        log(f"dependencies: downloading wheels for {target.tag} into {display(wheels)}")
        pip("download", "--dest", str(wheels), *target.pip_args(), *specs, quiet=quiet)
    log(f"dependencies: installing {len(specs)} requirements into {display(site)}")
    staging = Path(tempfile.mkdtemp(prefix="site-", dir=build_dir))
    try:
        pip(
            "install",
            "--no-index",
            "--find-links",
            str(wheels),
            "--target",
            str(staging),
            "--no-compile",
            *target.pip_args(),
            *specs,
            quiet=quiet,
        )
        (staging / ".complete").write_text("\n".join(specs) + "\n")
        if site.exists():
            shutil.rmtree(site)
        site.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(site)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return site


def install_for(specs: list[str], args: argparse.Namespace) -> Path:
    """``install_site`` for the target and cache options on the command line."""
    return install_site(
        specs,
        Target(args.python_version, args.arch),
        args.build_dir,
        reinstall=args.reinstall,
        offline=args.offline,
        quiet=not args.verbose,
    )


def _keep(relative: Path) -> bool:
    parts = relative.parts
    if any(part in SKIP_DIRS for part in parts[:-1]) or relative.name in SKIP_DIRS:
        return False
    if relative.suffix in SKIP_SUFFIXES or relative.name == ".complete":
        return False
    if parts[0] in SKIP_TOP_LEVEL:
        return False
    return not (len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in SKIP_DIST_INFO)


def _is_editor_noise(relative: Path) -> bool:
    return any(part.startswith(".") or part.endswith("~") for part in relative.parts)


def walk(base: Path, prefix: str = "", *, source: bool = False) -> Iterator[tuple[str, Path]]:
    """(archive name, file) for every file under ``base`` worth shipping.

    ``source``: a working tree, where hidden files and editor backups are never shipped.
    """
    for path in sorted(base.rglob("*")):
        if path.is_dir() or (path.is_symlink() and not path.exists()):
            continue
        relative = path.relative_to(base)
        if _keep(relative) and not (source and _is_editor_noise(relative)):
            yield prefix + relative.as_posix(), path


def check_packages(package: Path) -> None:
    """Every directory with Python modules must be a regular package (lesson: import errors)."""
    for directory in [package, *(p for p in package.rglob("*") if p.is_dir())]:
        if directory.name in SKIP_DIRS:
            continue
        if any(directory.glob("*.py")) and not (directory / "__init__.py").exists():
            raise SystemExit(f"{directory} has modules but no __init__.py")


@dataclass(frozen=True)
class Entry:
    name: str
    source: Path | None
    data: bytes | None = None
    executable: bool = False

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.source is not None
        return self.source.read_bytes()


def lf_script(path: Path) -> bytes:
    data = path.read_bytes().replace(b"\r\n", b"\n")
    if not data.startswith(b"#!"):
        raise SystemExit(f"{path} has no shebang line")
    return data


def runtime_python(version: str) -> str | None:
    """A real ``python<version>`` binary (not a pyenv shim, not a virtualenv):
    ``$LAMBDA_RUNTIME_PYTHON``, then PATH, then pyenv's versions."""
    candidates = [os.environ.get("LAMBDA_RUNTIME_PYTHON"), shutil.which(f"python{version}")]
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(f"{pyenv}/versions/{version}.*/bin/python{version}"))
    for candidate in candidates:
        if (
            candidate
            and os.access(candidate, os.X_OK)
            and ".venv" not in candidate
            and "/shims/" not in candidate
            and _version_of(candidate) == version
        ):
            return candidate
    return None


def _version_of(python: str) -> str:
    probe = [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    result = subprocess.run(probe, capture_output=True, text=True, check=False)  # noqa: S603
    return result.stdout.strip()


def bytecode(entries: list[Entry], python: str) -> list[Entry]:
    """``__pycache__`` entries for every module, compiled by the runtime's Python.

    Unchecked-hash pycs are used without looking at the source's mtime (the zip fixes every
    mtime to 1980); compiling a copy under one fixed name (/var/task) with a fixed hash seed
    gives the same bytes on every build.
    """
    with tempfile.TemporaryDirectory(prefix="bytecode-") as scratch:
        root = Path(scratch)
        for entry in entries:
            if entry.name.endswith(".py"):
                path = root / entry.name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(entry.read())
        command = [python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash"]
        command += ["-s", str(root), "-p", "/var/task", str(root)]
        compiled = subprocess.run(  # noqa: S603 - a located interpreter, fixed arguments
            command,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if compiled.returncode != 0:
            raise SystemExit(
                f"compiling with {python} failed (--no-bytecode skips it):\n{compiled.stdout}"
            )
        return [
            Entry(path.relative_to(root).as_posix(), None, path.read_bytes())
            for path in sorted(root.rglob("*.pyc"))
        ]


def entries_for(function: str, site: Path, src: Path = SRC) -> list[Entry]:
    found: dict[str, Entry] = {}

    def add(entry: Entry) -> None:
        if entry.name in found:
            raise SystemExit(f"{entry.name} would be packaged twice (a dependency clashes?)")
        found[entry.name] = entry

    for name, path in walk(site):
        add(Entry(name, path))
    for package in ("sentiment", function):
        check_packages(src / package)
        for name, path in walk(src / package, prefix=f"{package}/", source=True):
            if path.suffix == ".sh":
                add(Entry(name, path, lf_script(path), executable=True))
            else:
                add(Entry(name, path))
    if function == "sse":
        # The handler: LWA runs it from the zip root; it finds the sse package beside it.
        add(Entry("run.sh", src / "sse" / "run.sh", lf_script(src / "sse" / "run.sh"), True))
    return [found[name] for name in sorted(found)]


def write_zip(entries: Iterable[Entry], destination: Path) -> tuple[int, int]:
    """Writes a deterministic zip; returns (file count, uncompressed bytes)."""
    count = size = 0
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.name, date_time=ZIP_EPOCH)
            info.create_system = 3  # unix, so external_attr carries the mode
            info.external_attr = (EXEC_MODE if entry.executable else FILE_MODE) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = entry.read()
            archive.writestr(info, data, compresslevel=9)
            count += 1
            size += len(data)
    partial.replace(destination)
    return count, size


def unpack(archive: Path, destination: Path) -> Path:
    """Extract a zip into a new or empty folder as Lambda does, restoring the unix modes."""
    destination.mkdir(parents=True, exist_ok=True)
    if any(destination.iterdir()):
        raise FileExistsError(f"{destination} is not empty")
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            path = zipped.extract(info, destination)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(path, mode)
    return destination


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def installed_versions(site: Path) -> list[str]:
    versions = []
    for metadata in sorted(site.glob("*.dist-info/METADATA")):
        fields = dict(
            line.split(": ", 1) for line in metadata.read_text().splitlines()[:10] if ": " in line
        )
        versions.append(f"{fields.get('Name')}=={fields.get('Version')}")
    return versions


def display(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def build(function: str, args: argparse.Namespace) -> Path:
    started = time.monotonic()
    target = Target(args.python_version, args.arch)
    specs = requirements(function, args.bundle_boto3)
    log(
        f"{function}: python{target.python_version} / {target.arch} ({target.platform}); "
        f"requirements: {', '.join(specs)}"
    )
    site = install_for(specs, args)
    log(f"{function}: bundles {', '.join(installed_versions(site))}")
    entries = entries_for(function, site, args.src)
    if args.python:
        compiled = bytecode(entries, args.python)
        log(f"{function}: compiled {len(compiled)} modules with {args.python} (unchecked-hash)")
        entries = sorted(entries + compiled, key=lambda entry: entry.name)
    destination = args.dist / f"{function}.zip"
    count, unzipped = write_zip(entries, destination)
    zipped = destination.stat().st_size
    log(
        f"{function}: wrote {display(destination)} - {count} files, {mb(zipped)} zipped, "
        f"{mb(unzipped)} unzipped, sha256 {sha256(destination)[:16]}... "
        f"({time.monotonic() - started:.1f} s)"
    )
    if zipped > args.max_size_mb * 1_000_000:
        raise SystemExit(f"{destination} is {mb(zipped)}, over the {args.max_size_mb} MB target")
    return destination


def runtime_dir(args: argparse.Namespace) -> None:
    """What the Lambda runtime itself provides to a function (boto3), for the smoke test."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = [s for s in project["dependencies"] if requirement_name(s) == "boto3"]
    site = install_for(specs, args)
    destination: Path = args.runtime_dir
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(site, destination, ignore=shutil.ignore_patterns(".complete", "bin"))
    log(f"runtime: {', '.join(installed_versions(destination))} in {destination}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python scripts/package.py",
        description="Build reproducible Lambda zips (dist/dashboard.zip, dist/sse.zip).",
        epilog="Environment: LAMBDA_PYTHON_VERSION, LAMBDA_ARCH set the defaults.",
    )
    parser.add_argument(
        "functions",
        nargs="*",
        metavar="FUNCTION",
        help="dashboard and/or sse (default: both)",
    )
    parser.add_argument(
        "--python-version",
        default=os.environ.get("LAMBDA_PYTHON_VERSION", "3.12"),
        help="Lambda runtime Python version, e.g. 3.12 or 3.13 (default: %(default)s)",
    )
    parser.add_argument(
        "--arch",
        choices=sorted(ARCHITECTURES),
        default=os.environ.get("LAMBDA_ARCH", "x86_64"),
        help="Lambda architecture (default: %(default)s)",
    )
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output directory")
    parser.add_argument(
        "--src", type=Path, default=SRC, help="source tree holding the packages (default: src)"
    )
    parser.add_argument(
        "--build-dir",
        type=Path,
        default=ROOT / "build" / "package",
        help="cache of downloaded wheels and installed dependencies (default: build/package)",
    )
    parser.add_argument(
        "--bundle-boto3",
        action="store_true",
        help="also bundle boto3/botocore instead of using the runtime's (adds ~15 MB unzipped)",
    )
    parser.add_argument(
        "--reinstall", action="store_true", help="reinstall dependencies from the wheel cache"
    )
    parser.add_argument(
        "--offline", action="store_true", help="never download; use only cached wheels"
    )
    parser.add_argument(
        "--max-size-mb",
        type=float,
        default=20.0,
        help="fail when a zip is larger than this (default: %(default)s)",
    )
    parser.add_argument(
        "--runtime-dir",
        type=Path,
        help="instead of building, install what the Lambda runtime provides (boto3) into DIR",
    )
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="ship sources only (default: compile .pyc with the runtime's Python when found)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show pip's output")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"3\.\d{1,2}", args.python_version):
        parser.error(f"--python-version must look like 3.12, not {args.python_version!r}")
    unknown = sorted(set(args.functions) - set(FUNCTIONS))
    if unknown:
        parser.error(f"unknown function(s) {', '.join(unknown)}; choose from dashboard, sse")
    args.functions = list(dict.fromkeys(args.functions)) or list(FUNCTIONS)
    args.dist = args.dist.resolve()
    args.src = args.src.resolve()
    args.build_dir = args.build_dir.resolve()
    args.build_dir.mkdir(parents=True, exist_ok=True)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.runtime_dir:
        runtime_dir(args)
        return 0
    args.python = None if args.no_bytecode else runtime_python(args.python_version)
    if not args.python and not args.no_bytecode:
        log(
            f"bytecode: no python{args.python_version} found (PATH, pyenv, "
            "$LAMBDA_RUNTIME_PYTHON): the zips ship sources only, so cold starts compile them"
        )
    for function in args.functions:
        build(function, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
