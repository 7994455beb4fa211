"""bench/call_path.py's counting: the layers read from the import-linter
contracts, and the tracer's calls, stops, crossings and climbs on code whose
module names are ours (built here under those names: the tracer counts by
`__name__` at runtime)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.call_path import Layers, Trace, Tracer

ROOT = Path(__file__).resolve().parents[1]


def _in_module(module: str, source: str, name: str, **env: Any) -> Callable[..., Any]:
    ns: dict[str, Any] = {"__name__": module, **env}
    exec(source, ns)
    return ns[name]  # type: ignore[no-any-return]


def test_layers_follow_the_projects_contracts() -> None:
    layers = Layers(ROOT / "pyproject.toml")
    assert layers.climbs("matcher.matching.geo", "push.hub")
    assert layers.climbs("push.hub", "api.routers.push")
    assert not layers.climbs("push.hub", "matcher.matching.geo")
    assert not layers.climbs("push.hub", "ml.esco_data")  # siblings in one layer
    assert layers.climbs("matcher.matching.ranking", "matcher.matching.matches")
    assert not layers.climbs("matcher.matching.matches", "matcher.matching.ranking")
    assert layers.climbs("matcher.matching.scoring", "matcher.matching.geo")  # a forbidden contract
    assert not layers.climbs(
        "matcher.matching.geo", "matcher.location.areas"
    )  # no contract orders these


def test_layers_inside_containers(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.importlinter]\nroot_packages = ['matcher']\n"
        "[[tool.importlinter.contracts]]\nname = 'x'\ntype = 'layers'\n"
        "containers = ['matcher.matching']\nlayers = ['replica', '(geo) | scoring']\n"
    )
    layers = Layers(tmp_path / "pyproject.toml")
    assert layers.climbs("matcher.matching.scoring", "matcher.matching.replica")
    assert layers.climbs("matcher.matching.geo.x", "matcher.matching.replica")
    assert not layers.climbs("matcher.matching.replica", "matcher.matching.geo")
    assert not layers.climbs("matcher.matching.geo", "matcher.matching.scoring")


def test_tracer_counts_a_callback_from_matcher_into_push_as_a_climb() -> None:
    up = _in_module("push.hub", "def up(x):\n    return x + 1\n", "up")
    low = _in_module(
        "matcher.matching.scoring", "def low(f):\n    return [f(i) for i in range(3)]\n", "low"
    )
    entry = _in_module(
        "push.session", "def entry():\n    return low(up)\n", "entry", low=low, up=up
    )

    async def run() -> Trace:
        with Tracer(Layers(ROOT / "pyproject.toml")) as t:
            assert entry() == [1, 2, 3]
        return t

    t = asyncio.run(run())
    assert t.stops == ["push.session", "matcher.matching.scoring", "push.hub"]
    assert t.calls == 6  # entry, low, low's list comprehension, up three times
    assert t.crossings == 4  # entry -> low, and the comprehension -> up three times
    assert t.edges == [
        "push.session -> matcher.matching.scoring",
        "matcher.matching.scoring -> push.hub",
    ]
    assert t.climbs == 3
    assert t.climb_edges == {"matcher.matching.scoring.<listcomp> -> push.hub.up": 3}


def test_tracer_counts_a_resumed_coroutine_once_and_leaves_other_tasks_out() -> None:
    waits = _in_module(
        "push.hub",
        "import asyncio\n"
        "async def waits():\n    await asyncio.sleep(0)\n    await asyncio.sleep(0)\n",
        "waits",
    )
    other = _in_module("matcher.matching.geo", "def other():\n    return 1\n", "other")

    async def elsewhere() -> None:
        other()

    async def run() -> Trace:
        with Tracer(Layers(ROOT / "pyproject.toml")) as t:
            task = asyncio.create_task(elsewhere())
            await waits()
            await task
        return t

    t = asyncio.run(run())
    assert (t.calls, t.stops, t.crossings, t.climbs) == (1, ["push.hub"], 0, 0)
    assert t.other_tasks == 1
