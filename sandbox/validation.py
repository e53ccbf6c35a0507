"""Small JSON-body validation helpers raising 400 ``invalid_request_error``s."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sandbox.errors import ApiError, invalid


def reject_unknown(data: Mapping[str, object], allowed: Iterable[str], prefix: str = "") -> None:
    """400 ``unknown_parameter`` naming the first field not in ``allowed``."""
    allowed_set = set(allowed)
    for key in data:
        if key not in allowed_set:
            param = f"{prefix}{key}"
            raise invalid("unknown_parameter", f"Received unknown parameter: {param}.", param)


def missing(param: str) -> ApiError:
    return invalid("parameter_missing", f"Missing required parameter: {param}.", param)


def is_int(value: object) -> bool:
    """True for JSON integers (bool is not an integer here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def optional_string(
    data: Mapping[str, object], name: str, code: str, max_length: int
) -> str | None:
    """A present field must be a string of at most ``max_length`` characters."""
    if name not in data:
        return None
    value = data[name]
    if not isinstance(value, str) or len(value) > max_length:
        raise invalid(code, f"{name} must be a string of at most {max_length} characters.", name)
    return value
