"""A tool's JSON schema derived from its function: name, docstring and signature are the one source of truth."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from docstring_parser import DocstringStyle, parse

JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict
    function: Callable[..., Awaitable[dict]]


def _one_line(text: str | None) -> str:
    # Docstrings wrap for the source's line length; the LLM gets plain sentences.
    return " ".join((text or "").split())


def _json_type(function: Callable, name: str, hint: object) -> str:
    # `X | None` only says the argument may be left out; the LLM is told X (as the hand-written schemas did).
    members = [member for member in typing.get_args(hint) if member is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(members) == 1:
        hint = members[0]
    if hint not in JSON_TYPES:
        raise TypeError(f"{function.__name__}: parameter '{name}' has type {hint!r}; a tool takes "
                        f"{', '.join(t.__name__ for t in JSON_TYPES)} (or one of them | None)")
    return JSON_TYPES[hint]


def tool_spec(function: Callable[..., Awaitable[dict]]) -> ToolSpec:
    """The ToolSpec of `function(ctx, ...)`; raises TypeError when a parameter is undocumented or untyped."""
    docstring = parse(function.__doc__ or "", style=DocstringStyle.GOOGLE)
    description = _one_line(f"{docstring.short_description or ''} {docstring.long_description or ''}")
    if not description:
        raise TypeError(f"{function.__name__}: a tool needs a docstring, the LLM reads it as the description")
    documented = {param.arg_name: _one_line(param.description) for param in docstring.params}
    hints = typing.get_type_hints(function)
    properties: dict[str, dict] = {}
    required: list[str] = []
    for parameter in list(inspect.signature(function).parameters.values())[1:]:  # the first one is ctx
        name = parameter.name
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"{function.__name__}: *{name} can't be described to an LLM")
        if not documented.get(name):
            raise TypeError(f"{function.__name__}: parameter '{name}' is undocumented (add it under Args:)")
        if name not in hints:
            raise TypeError(f"{function.__name__}: parameter '{name}' has no type hint")
        properties[name] = {"type": _json_type(function, name, hints[name]), "description": documented[name]}
        if parameter.default is parameter.empty:
            required.append(name)
    stale = set(documented) - set(properties)
    if stale:
        raise TypeError(f"{function.__name__}: Args: describes {sorted(stale)}, which it doesn't take")
    return ToolSpec(function.__name__, description,
                    {"type": "object", "properties": properties, "required": required, "additionalProperties": False},
                    function)
