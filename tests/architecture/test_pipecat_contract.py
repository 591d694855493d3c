"""The private Pipecat names the code relies on: each still exists, and none is used without being listed."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from functools import cache
from pathlib import Path

import pipecat

import voiceagent
from voiceagent.pipecat_private import PRIVATE_NAMES


def _class(path: str) -> type:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@cache
def _pipecat_source(cls: type) -> str:
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        return ""


def _defines(cls: type, name: str) -> bool:
    """A class (or a Pipecat base of it) has the method or class attribute, or sets it on its instances."""
    return hasattr(cls, name) or any(
        re.search(rf"self\.{re.escape(name)}\b", _pipecat_source(base))
        for base in cls.__mro__ if base.__module__.startswith("pipecat"))


def test_every_listed_private_name_still_exists_on_the_installed_pipecat():
    missing = []
    for path, names in PRIVATE_NAMES.items():
        try:
            cls = _class(path)
        except (ImportError, AttributeError) as error:
            missing.append(f"{path}: the class is gone ({error})")
            continue
        missing += [f"{path}.{name}" for name in names if not _defines(cls, name)]
    assert not missing, f"Pipecat {pipecat.__version__} moved these (see voiceagent/pipecat_private.py):\n" + "\n".join(
        missing)


def _our_modules():
    for info in pkgutil.walk_packages(voiceagent.__path__, "voiceagent."):
        if not info.name.startswith("voiceagent.emulators"):
            yield importlib.import_module(info.name)


@cache
def _every_private_pipecat_name() -> frozenset[str]:
    names: set[str] = set()
    for path in Path(pipecat.__file__).parent.rglob("*.py"):
        text = path.read_text(errors="ignore")
        names.update(re.findall(r"\bdef (_[a-z]\w*)", text), re.findall(r"self\.(_[a-z]\w*)", text))
    return frozenset(names)


def test_the_code_touches_no_private_pipecat_name_that_is_not_listed():
    listed = {name for names in PRIVATE_NAMES.values() for name in names}
    unlisted = set()
    for module in _our_modules():
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                continue
            pipecat_bases = [base for base in cls.__mro__ if base.__module__.startswith("pipecat")]
            if not pipecat_bases:
                continue
            ours = "\n".join(inspect.getsource(c) for c in cls.__mro__ if c.__module__.startswith("voiceagent"))
            used = set(re.findall(r"(?:self|super\(\))\.(_[a-z]\w*)", ours) + re.findall(r"\bdef (_[a-z]\w*)", ours))
            unlisted |= {f"{cls.__qualname__}.{name}" for name in used
                         if name not in listed and any(_defines(base, name) for base in pipecat_bases)}
        # Private names read off other objects (a service handed in, say).
        for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
                    and not isinstance(node.value, ast.Call)
                    and node.attr in _every_private_pipecat_name() and node.attr not in listed):
                unlisted.add(f"{module.__name__}: {ast.unparse(node)}")
    assert not unlisted, "private Pipecat names not in voiceagent/pipecat_private.py:\n" + "\n".join(sorted(unlisted))
