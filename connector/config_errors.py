"""Configuration problems said the way a person looks for them: tenants and sources by
their id and name (not ``tenants[0]``), a value that came from the environment by its
variable (not the file), and an unknown key with the key it probably meant."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

DISCRIMINATOR_TAGS = frozenset({"csv", "shopify", "pos"})


def describe(err: Mapping[str, Any], data: Mapping[str, Any], root: type[BaseModel],
             environ: Mapping[str, str], env_prefix: str) -> str:
    """``where: what is wrong`` for one pydantic error of the configuration."""
    loc = [p for p in err.get("loc", ()) if p not in DISCRIMINATOR_TAGS]
    where = path_text(loc, data)
    msg = str(err.get("msg", "invalid"))
    if err.get("type") == "extra_forbidden":
        msg = "unknown key"
        guess = did_you_mean(root, loc, data)
        msg += f" (did you mean {guess!r}?)" if guess else (
            " (check the spelling against config.example.toml)")
    elif err.get("type") == "missing":
        msg = "required key is missing"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    variable = env_variable(loc, env_prefix)
    if variable is not None and variable in environ:
        return f"{variable} (environment, {where or '<root>'}): {msg}"
    return f"{where or '<root>'}: {msg}"


def path_text(loc: Sequence[Any], data: Mapping[str, Any]) -> str:
    """``tenants[t1].sources[pos-export].drop_dir`` for ``(tenants, 0, sources, 0,
    drop_dir)``: list items by their ``id`` or ``name`` when they have one."""
    text = ""
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            label = next((item.get(k) for k in ("id", "name", "internal_user_id")
                          if isinstance(item, dict) and item.get(k)), None)
            text += f"[{label}]" if isinstance(label, str) and label else f"[{part}]"
            node = item
        else:
            text += f".{part}" if text else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return text


def env_variable(loc: Sequence[Any], env_prefix: str) -> str | None:
    """The environment variable that sets this key (``STICKY_SYNC_STICKY__BASE_URL``);
    ``None`` inside lists (tenants come from the file)."""
    if not loc or any(isinstance(p, int) for p in loc):
        return None
    return env_prefix + "__".join(str(p) for p in loc).upper()


def did_you_mean(root: type[BaseModel], loc: Sequence[Any],
                 data: Mapping[str, Any]) -> str | None:
    """The known key closest to the unknown last part of ``loc``."""
    model = _model_at(root, loc[:-1], data)
    if model is None or not loc:
        return None
    found = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1,
                                      cutoff=0.6)
    return found[0] if found else None


def _model_at(root: type[BaseModel], loc: Sequence[Any],
              data: Mapping[str, Any]) -> type[BaseModel] | None:
    model: Any = root
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            model = _pick(model, node)
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        node = node.get(part) if isinstance(node, dict) else None
        annotation = _unwrap(field.annotation)
        # a list's items are picked at the index that follows
        model = annotation if typing.get_origin(annotation) in (list, tuple) else _pick(
            annotation, node)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _item_type(annotation: Any) -> Any:
    """``list[X]``/``X | None``/``Annotated[X, ...]`` → what the value's items or value
    is (a union is kept for :func:`_pick`)."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated or origin in (list, tuple):
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation


def _pick(annotation: Any, node: Any) -> Any:
    """From a union of models, the one ``node``'s ``kind`` names (or the only model)."""
    annotation = _item_type(annotation)
    origin = typing.get_origin(annotation)
    if origin not in (typing.Union, types.UnionType):
        return annotation
    models = [a for a in typing.get_args(_item_type(annotation))
              if isinstance(a, type) and issubclass(a, BaseModel)]
    kind = node.get("kind") if isinstance(node, dict) else None
    for candidate in models:
        field = candidate.model_fields.get("kind")
        if field is not None and kind in typing.get_args(field.annotation):
            return candidate
    return models[0] if len(models) == 1 else None
