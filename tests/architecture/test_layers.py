"""The shape of the code: packages import only downwards, and vendors and Pipecat stay where they belong."""

from __future__ import annotations

import subprocess
import sys

from tests.architecture.imports import PACKAGE_DIR, component_graph, external_imports

# Top to bottom; a component may import only components of lower layers (and itself).
LAYERS = [
    {"cli"},  # the one command
    {"cli_kb", "cli_eval", "cli_recordings", "cli_data", "cli_bench"},  # its sub-commands
    {"evals"},  # intent, transcription and scenario evals, run on the test harness
    {"simulate", "emulators"},  # the test harness
    {"workers"},  # serve --workers: one socket, N server processes, the state they share
    {"server"},
    {"web"},  # the softphone page and the call console, mounted by the server
    {"access"},  # who may call: stream tokens, limits, call slots, the drain
    {"call"},
    {"runtime"},
    {"brain", "providers", "telephony"},
    {"knowledge", "tools"},
    {"storage", "observability"},
    {"secrets"},  # secret settings read from a secrets backend over the environment's (the client is a provider)
    {"shared", "config", "process", "pipecat_private"},
]
VENDOR_SDKS = {"anthropic", "openai", "deepgram", "elevenlabs", "twilio"}
MAY_NAME_VENDORS = {"providers", "telephony", "emulators", "simulate"}  # simulate plays Twilio's side of a call
DOMAIN = ("tools", "knowledge", "storage")
FRAMEWORKS = {"pipecat", "fastapi", "starlette", "uvicorn", *VENDOR_SDKS}


def _layer(component: str) -> int:
    return next(index for index, layer in enumerate(LAYERS) if component in layer)


def test_every_package_and_top_level_module_has_a_layer():
    components = {path.relative_to(PACKAGE_DIR).parts[0].removesuffix(".py") for path in PACKAGE_DIR.iterdir()
                  if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists())}
    components.discard("__init__")
    unplaced = components - set().union(*LAYERS)
    assert not unplaced, f"add {sorted(unplaced)} to LAYERS in {__file__}"


def test_no_import_cycle_between_packages():
    graph = {source: set(targets) for source, targets in component_graph().items()}
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        for target in sorted(graph.get(node, ())):
            if target in path:
                cycles.append(" -> ".join(path[path.index(target):] + [target]))
            elif len(path) < len(graph):
                visit(target, path + [target])

    for start in sorted(graph):
        visit(start, [start])
    assert not cycles, "import cycles between packages:\n" + "\n".join(sorted(set(cycles)))


def test_imports_only_run_down_the_layers():
    upward = [
        f"{source} imports {target} (in {', '.join(sorted(set(modules)))})"
        for source, targets in component_graph().items()
        for target, modules in targets.items()
        if _layer(target) <= _layer(source)
    ]
    assert not upward, "imports that do not run down:\n" + "\n".join(sorted(upward))


def test_vendor_sdks_are_imported_only_by_providers_and_telephony():
    misplaced = {component: sorted(names & VENDOR_SDKS) for component, names in external_imports().items()
                 if component not in MAY_NAME_VENDORS and names & VENDOR_SDKS}
    assert not misplaced, f"vendor SDKs imported outside providers/ and telephony/: {misplaced}"


def test_the_domain_imports_no_framework_or_vendor_even_indirectly():
    code = ("import sys\n"
            f"for package in {DOMAIN!r}:\n"
            "    __import__(f'voiceagent.{package}')\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(FRAMEWORKS)!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(PACKAGE_DIR.parent), "PATH": ""})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"tools/knowledge/storage pulled in: {result.stdout.strip()}"
