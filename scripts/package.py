#!/usr/bin/env python3
"""Build the two Lambda deployment zips, reproducibly: ``dist/dashboard.zip`` and ``dist/sse.zip``.

Each zip holds, at its root, the shared ``sentiment`` package, the function's own package
(``dashboard`` with its static page, or ``sse``), and the runtime dependencies exactly as
locked in ``requirements/<function>.txt`` (``make lock`` derives them from pyproject.toml's
``[project].dependencies`` plus the function's extra: mangum or uvicorn): every pin, every
sha256, wheels only, for the Lambda platform; pip refuses any file whose hash the lock does not
list. The SSE zip also carries ``run.sh`` at its root (the handler the Lambda Web Adapter
executes). boto3/botocore are not bundled unless ``--bundle-boto3`` (then from
``requirements/lambda-runtime.txt``): the Lambda Python runtime provides them (docs/deploy.md).

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

Refresh the locks with ``make lock`` (scripts/lock.py), never by hand.
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

from packaging.markers import Marker

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
LOCKS = ROOT / "requirements"
FUNCTIONS = ("dashboard", "sse")
ARCHITECTURES = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}  # platform_machine on Lambda
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

    def marker_environment(self) -> dict[str, str]:
        """Environment markers as the Lambda runtime evaluates them."""
        return {
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "python_version": self.python_version,
            "python_full_version": f"{self.python_version}.0",
            "implementation_version": f"{self.python_version}.0",
            "sys_platform": "linux",
            "platform_system": "Linux",
            "os_name": "posix",
            "platform_machine": MACHINES[self.arch],
        }

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


@dataclass(frozen=True)
class Config:
    """What one run builds, from where, into where: the command line, checked and resolved."""

    functions: tuple[str, ...]
    target: Target
    dist: Path
    src: Path
    locks: Path
    build_dir: Path
    bundle_boto3: bool
    reinstall: bool
    offline: bool
    verbose: bool
    max_size_mb: float
    bytecode: bool  # compile .pyc with the runtime's Python, when it is found
    runtime_dir: Path | None  # set: install what the runtime provides there, build nothing


def requirements(
    function: str, bundle_boto3: bool, pyproject: Path = ROOT / "pyproject.toml"
) -> list[str]:
    """The function's runtime requirements as pyproject.toml ranges them (``make lock``'s input);
    ``"runtime"`` for what the Lambda runtime provides (boto3)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    specs = list(project["dependencies"])
    if function == "runtime":
        return sorted(s for s in specs if requirement_name(s) in RUNTIME_PROVIDED)
    specs += list(project["optional-dependencies"][function])
    if not bundle_boto3:
        specs = [s for s in specs if requirement_name(s) not in RUNTIME_PROVIDED]
    return sorted(specs, key=requirement_name)


@dataclass(frozen=True)
class Pin:
    """One locked requirement: ``name==version ; marker`` and the hashes of its files."""

    name: str
    version: str
    hashes: tuple[str, ...]
    marker: str | None = None

    def line(self) -> str:
        return " ".join([f"{self.name}=={self.version}", *(f"--hash={h}" for h in self.hashes)])


def read_lock(path: Path) -> list[Pin]:
    """The pins of a ``uv pip compile --generate-hashes`` file (continuations joined)."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pins = []
    for raw in text.splitlines():
        line = re.sub(r"\s#.*$", "", raw).strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(
            r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)\s*(?:;\s*(.*?))?((?:\s*--hash=\S+)*)", line
        )
        if not match:
            raise SystemExit(f"{display(path)}: not a pinned, hashed requirement: {line!r}")
        name, version, marker, hashes = match.groups()
        found = tuple(re.findall(r"--hash=(\S+)", hashes))
        if not found:
            raise SystemExit(f"{display(path)}: {name}=={version} has no --hash")
        pins.append(Pin(normalize(name), version, found, (marker or "").strip() or None))
    return pins


def locked(function: str, target: Target, bundle_boto3: bool, locks: Path = LOCKS) -> list[Pin]:
    """What the zip of ``function`` (or ``"lambda-runtime"``) installs for ``target``."""
    files = [locks / f"{function}.txt"]
    if bundle_boto3 and function != "lambda-runtime":
        files.append(locks / "lambda-runtime.txt")
    chosen: dict[str, Pin] = {}
    for path in files:
        if not path.exists():
            raise SystemExit(f"{display(path)} is missing: run `make lock`")
        for pin in read_lock(path):
            if pin.marker and not Marker(pin.marker).evaluate(target.marker_environment()):
                continue
            other = chosen.setdefault(pin.name, pin)
            if other.version != pin.version:
                raise SystemExit(f"{pin.name} is locked at {other.version} and {pin.version}")
    return [chosen[name] for name in sorted(chosen)]


def pip(*args: str, quiet: bool) -> None:
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check"]
    if quiet:
        command.append("--quiet")
    subprocess.run(command, check=True)  # noqa: S603 - our own interpreter, fixed arguments


def install_site(
    pins: list[Pin],
    target: Target,
    build_dir: Path,
    *,
    reinstall: bool,
    offline: bool,
    quiet: bool,
) -> Path:
    """Install the locked ``pins`` for ``target`` into a cached directory; returns it.

    ``--require-hashes`` on both steps: a wheel whose sha256 the lock does not list is refused,
    whether it comes from the index or from the wheel cache. ``--no-deps``: the lock is already
    the whole closure, so nothing unlocked can be pulled in.
    """
    lines = [pin.line() for pin in pins]
    key = hashlib.sha256(json.dumps([lines, target.tag]).encode()).hexdigest()[:16]
    site = build_dir / "site" / f"{target.tag}-{key}"
    marker = site / ".complete"
    if marker.exists() and not reinstall:
        log(f"dependencies: reusing {display(site)}")
        return site
    wheels = build_dir / "wheels" / target.tag
    wheels.mkdir(parents=True, exist_ok=True)
    requirements_file = build_dir / "requirements" / f"{target.tag}-{key}.txt"
    requirements_file.parent.mkdir(parents=True, exist_ok=True)
    requirements_file.write_text("\n".join(lines) + "\n")
    locked_args = ["--require-hashes", "--no-deps", "-r", str(requirements_file)]
    if not offline:
        log(f"dependencies: downloading wheels for {target.tag} into {display(wheels)}")
        pip("download", "--dest", str(wheels), *target.pip_args(), *locked_args, quiet=quiet)
    log(f"dependencies: installing {len(pins)} locked requirements into {display(site)}")
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
            *locked_args,
            quiet=quiet,
        )
        (staging / ".complete").write_text("\n".join(lines) + "\n")
        if site.exists():
            shutil.rmtree(site)
        site.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(site)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return site


def install_for(lock: str, config: Config) -> tuple[Path, list[Pin]]:
    """``install_site`` of one lock for the configured target and cache options."""
    pins = locked(lock, config.target, config.bundle_boto3, config.locks)
    site = install_site(
        pins,
        config.target,
        config.build_dir,
        reinstall=config.reinstall,
        offline=config.offline,
        quiet=not config.verbose,
    )
    differences = mismatches(site, pins)
    if differences:
        raise SystemExit(f"{display(site)} differs from the lock: {'; '.join(differences)}")
    return site, pins


def mismatches(site: Path, pins: list[Pin]) -> list[str]:
    """How the distributions installed in ``site`` differ from ``pins`` (empty: they match)."""
    installed = dict(distribution.split("==", 1) for distribution in installed_versions(site))
    installed = {normalize(name): version for name, version in installed.items()}
    wanted = {pin.name: pin.version for pin in pins}
    found = [f"{n}=={v} is not locked" for n, v in installed.items() if wanted.get(n) != v]
    found += [f"{n}=={v} is missing" for n, v in wanted.items() if installed.get(n) != v]
    return sorted(found)


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


def build(function: str, config: Config, python: str | None) -> Path:
    """``dist/<function>.zip``; with ``python``, its modules also as that Python's bytecode."""
    started = time.monotonic()
    target = config.target
    log(
        f"{function}: python{target.python_version} / {target.arch} ({target.platform}); "
        f"locked in {display(config.locks / f'{function}.txt')}"
    )
    site, _ = install_for(function, config)
    log(f"{function}: bundles {', '.join(installed_versions(site))}")
    entries = entries_for(function, site, config.src)
    if python:
        compiled = bytecode(entries, python)
        log(f"{function}: compiled {len(compiled)} modules with {python} (unchecked-hash)")
        entries = sorted(entries + compiled, key=lambda entry: entry.name)
    destination = config.dist / f"{function}.zip"
    count, unzipped = write_zip(entries, destination)
    zipped = destination.stat().st_size
    log(
        f"{function}: wrote {display(destination)} - {count} files, {mb(zipped)} zipped, "
        f"{mb(unzipped)} unzipped, sha256 {sha256(destination)[:16]}... "
        f"({time.monotonic() - started:.1f} s)"
    )
    if zipped > config.max_size_mb * 1_000_000:
        raise SystemExit(f"{destination} is {mb(zipped)}, over the {config.max_size_mb} MB target")
    return destination


def runtime_dir(config: Config, destination: Path) -> None:
    """What the Lambda runtime itself provides to a function (boto3), for the smoke test."""
    site, _ = install_for("lambda-runtime", config)
    if destination.exists():
        shutil.rmtree(destination)
    shutil.copytree(site, destination, ignore=shutil.ignore_patterns(".complete", "bin"))
    log(f"runtime: {', '.join(installed_versions(destination))} in {destination}")


def _parser() -> argparse.ArgumentParser:
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
    _add_path_arguments(parser)
    _add_build_options(parser)
    return parser


def _add_path_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output directory")
    parser.add_argument(
        "--src", type=Path, default=SRC, help="source tree holding the packages (default: src)"
    )
    parser.add_argument(
        "--locks",
        type=Path,
        default=LOCKS,
        help="folder of the dependency locks, <function>.txt (default: requirements)",
    )
    parser.add_argument(
        "--build-dir",
        type=Path,
        default=ROOT / "build" / "package",
        help="cache of downloaded wheels and installed dependencies (default: build/package)",
    )
    parser.add_argument(
        "--runtime-dir",
        type=Path,
        help="instead of building, install what the Lambda runtime provides (boto3) into DIR",
    )


def _add_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bundle-boto3",
        action="store_true",
        help="also bundle boto3/botocore (requirements/lambda-runtime.txt) instead of using the "
        "runtime's (adds ~15 MB unzipped)",
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
        "--no-bytecode",
        action="store_true",
        help="ship sources only (default: compile .pyc with the runtime's Python when found)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show pip's output")


def parse_args(argv: list[str] | None = None) -> Config:
    """The command line as a ``Config``; creates nothing (each step makes the folders it uses)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not re.fullmatch(r"3\.\d{1,2}", args.python_version):
        parser.error(f"--python-version must look like 3.12, not {args.python_version!r}")
    unknown = sorted(set(args.functions) - set(FUNCTIONS))
    if unknown:
        parser.error(f"unknown function(s) {', '.join(unknown)}; choose from dashboard, sse")
    return Config(
        functions=tuple(dict.fromkeys(args.functions)) or FUNCTIONS,
        target=Target(args.python_version, args.arch),
        dist=args.dist.resolve(),
        src=args.src.resolve(),
        locks=args.locks.resolve(),
        build_dir=args.build_dir.resolve(),
        bundle_boto3=args.bundle_boto3,
        reinstall=args.reinstall,
        offline=args.offline,
        verbose=args.verbose,
        max_size_mb=args.max_size_mb,
        bytecode=not args.no_bytecode,
        runtime_dir=args.runtime_dir,
    )


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    if config.runtime_dir:
        runtime_dir(config, config.runtime_dir)
        return 0
    version = config.target.python_version
    python = runtime_python(version) if config.bytecode else None
    if not python and config.bytecode:
        log(
            f"bytecode: no python{version} found (PATH, pyenv, "
            "$LAMBDA_RUNTIME_PYTHON): the zips ship sources only, so cold starts compile them"
        )
    for function in config.functions:
        build(function, config, python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
