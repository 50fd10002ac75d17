"""What a 422 may say about the input it refuses: a few errors, each echoing a short prefix.

pydantic reports every bad element and echoes each input whole, so a hostile body decides the
size of its own answer (20,000 unknown fields: 20,000 errors). And an input can hold text that
JSON cannot carry back: a lone surrogate (``"\\ud800"`` is valid JSON) fails UTF-8 encoding,
which turned the 422 into a 500.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

MAX_REPORTED_ERRORS = 20
MAX_ECHO_CHARS = 100
ELLIPSIS = "…"
NOT_UNICODE = (
    "Input should be a valid string: text must be Unicode, and a lone surrogate "
    "(an unpaired \\ud800-\\udfff escape) is not"
)


def public_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The first :data:`MAX_REPORTED_ERRORS` errors, JSON-safe, every echo cut short, each
    reported once (a parameter two dependencies declare is validated, and refused, twice)."""
    shown = []
    for error in itertools.islice(_distinct(errors), MAX_REPORTED_ERRORS):
        entry: dict[str, Any] = {
            "type": error["type"],
            "loc": [part if isinstance(part, int) else _short(str(part)) for part in error["loc"]],
            "msg": NOT_UNICODE if error["type"] == "string_unicode" else _text(str(error["msg"])),
        }
        if "input" in error:
            entry["input"] = _echo(error["input"])
        if error.get("ctx"):
            entry["ctx"] = {_short(str(k)): _echo(v) for k, v in error["ctx"].items()}
        shown.append(entry)
    return shown


def _distinct(errors: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    seen: set[tuple[str, tuple[Any, ...]]] = set()
    for error in errors:
        key = (str(error["type"]), tuple(map(str, error["loc"])))
        if key not in seen:
            seen.add(key)
            yield error


def _echo(value: Any) -> Any:
    """``value`` itself when short, else the first characters of its JSON text.

    The text comes from the pure-Python incremental encoder (``iterencode``), which stops
    after the prefix: a 20,000-element list costs a few chunks, not its whole encoding.
    Anything JSON has no type for (an exception in ``ctx``) is written as its ``str``."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return _short(value)
    encoder = json.JSONEncoder(ensure_ascii=False, default=str)
    text = ""
    for chunk in encoder.iterencode(value):
        text += chunk
        if len(text) > MAX_ECHO_CHARS:
            return _short(text)
    return _json_safe(json.loads(text))


def _short(text: str) -> str:
    text = _text(text)
    return text if len(text) <= MAX_ECHO_CHARS else text[:MAX_ECHO_CHARS] + ELLIPSIS


def _text(text: str) -> str:
    """Lone surrogates written out as ``\\udxxx`` escapes, so the text encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _json_safe(value: Any) -> Any:
    """Strict JSON: NaN and Infinity (Python's parser accepts them) as strings, text encodable."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {_text(str(k)): _json_safe(v) for k, v in value.items()}
    return value
