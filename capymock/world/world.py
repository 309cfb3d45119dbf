"""One world: everything a fake API answers from (store, keys, faults, scripts, clock, request
journal, names), built whole from a frozen `Baseline` and only ever replaced whole.

A load or a reset makes a new `World` and swaps one reference, so a request, a step or an
`advance` that started in the old world finishes there and never touches the new one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from capymock.core.auth import Keyring, Principal
from capymock.core.clock import Clock, ManualClock
from capymock.core.defaults import DEFAULT_ORGANIZATION
from capymock.core.job import Job
from capymock.core.journal import Journal
from capymock.core.memo import Memo
from capymock.core.spec import Spec
from capymock.core.store import Store, StoreSnapshot
from capymock.core.timestamps import format_timestamp
from capymock.core.transitions import legal_targets
from capymock.scenario.model import Scenario
from capymock.world.faults import ArmedFault, ArmedFaults
from capymock.world.history import Change, History
from capymock.world.timeline import Timeline, Track


@dataclass(frozen=True)
class Baseline:
    """A world as it stands right after a load, frozen: every reset starts a new world from it."""

    scenario: str | None
    organization_id: str
    start: datetime
    store: StoreSnapshot
    tracks: Mapping[str, Track]
    keys: tuple[tuple[str, Principal], ...]
    faults: tuple[ArmedFault, ...]
    history: tuple[Change, ...] = ()
    """The changes the load made: each job's creation, and its steps before the start."""


def empty_baseline(start: datetime, token: str) -> Baseline:
    """No scenario: no jobs, and `token` as a key of the default organization."""
    return Baseline(
        None, DEFAULT_ORGANIZATION, start, StoreSnapshot((), ()), {}, _keys(token, DEFAULT_ORGANIZATION), ()
    )


def plan_baseline(spec: Spec, scenarios: Sequence[Scenario], start: datetime, token: str) -> Baseline:
    """The world right after loading `scenarios` (at least one) with the clock at `start`.

    `token` becomes an organization-wide key of the first scenario's organization.
    """
    organization = scenarios[0].organization
    store, keyring, faults = Store(), Keyring(_keys(token, organization)), ArmedFaults()
    for scenario in scenarios:
        for project in scenario.projects:
            store.add_project(project, scenario.organization)
        for grant in scenario.tokens:
            keyring.add(grant.token, scenario.organization, grant.project)
        for fault in scenario.faults:
            faults.add(fault)
    history = History(kept=None)  # every change of the load, its newest kept (`History.latest`)
    timeline = Timeline(spec, store, ManualClock(start), on_error=_never, history=history)
    timeline.start([job for scenario in scenarios for job in scenario.jobs], start)
    name = " + ".join(scenario.name for scenario in scenarios)
    return Baseline(
        name,
        organization,
        start,
        store.snapshot(),
        timeline.snapshot(),
        keyring.items(),
        faults.snapshot(),
        history.latest(),
    )


_PLANNED: OrderedDict[tuple[Any, ...], tuple[Baseline, Sequence[Scenario]]] = OrderedDict()
_PLANNED_LOCK = threading.Lock()
PLANNED_KEPT = 32


def planned_baseline(spec: Spec, scenarios: Sequence[Scenario], start: datetime, token: str) -> Baseline:
    """`plan_baseline`, remembered: the same scenarios (the same parsed objects) at the same start
    with the same token make the same frozen baseline, so sessions and reloads share it."""
    key = (id(spec), tuple(map(id, scenarios)), start, token)
    with _PLANNED_LOCK:
        found = _PLANNED.get(key)
        if found is not None:
            _PLANNED.move_to_end(key)
            return found[0]
    baseline = plan_baseline(spec, scenarios, start, token)
    with _PLANNED_LOCK:
        _PLANNED[key] = (baseline, tuple(scenarios))  # the scenarios kept alive: their ids stay theirs
        while len(_PLANNED) > PLANNED_KEPT:
            _PLANNED.popitem(last=False)
    return baseline


def _keys(token: str, organization_id: str) -> tuple[tuple[str, Principal], ...]:
    keyring = Keyring()
    keyring.add(token, organization_id)
    return keyring.items()


def _never(message: str) -> None:
    raise AssertionError(f"a step fired while a baseline was planned: {message}")


class World:
    """The live state of one fake API, started from `baseline` with `clock`."""

    def __init__(
        self,
        spec: Spec,
        baseline: Baseline,
        clock: Clock,
        on_error: Callable[[str], None],
        journal: Journal,
    ) -> None:
        self._spec = spec
        self.scenario = baseline.scenario
        self.organization_id = baseline.organization_id
        self.clock = clock
        self.store = Store(baseline.store)
        self.keyring = Keyring(baseline.keys)
        self.faults = ArmedFaults(baseline.faults)
        self.history = History(baseline.history)
        """Every change of every job, and the API's reads of them."""
        self.timeline = Timeline(spec, self.store, clock, on_error, baseline.tracks, self.history)
        self.journal = journal
        self.answers = Memo()
        """The API's answers as sent, by request and caller, at the store's version."""
        self.waiting = False
        """Its clock stands still until the first request to the API (`serve --start-on-first-request`)."""

    def use_clock(self, clock: Clock) -> None:
        """Go on with `clock` (steps due by now have fired in the old one)."""
        with self.timeline.lock:
            self.timeline.settle()
            self.clock = clock
            self.timeline.use_clock(clock)

    def jobs(self) -> list[Job]:
        """Every job, newest first (due steps fired first)."""
        self.timeline.settle()
        return sorted(self.store.jobs(), key=lambda job: job.sort_key, reverse=True)

    def projects(self) -> list[str]:
        """The projects of the world's organization, in the order declared."""
        return [
            p for p in self.store.projects() if self.store.project_organization(p) == self.organization_id
        ]

    def view(self) -> dict[str, Any]:
        """Clock, scenario, jobs (newest first), pending steps and faults, all as of one moment."""
        with self.timeline.lock:  # no step fires while the view is read
            now = self.clock.now()
            self.timeline.settle(now)
            jobs = sorted(self.store.jobs(), key=lambda job: job.sort_key, reverse=True)
            pending = self.timeline.pending()
        return {
            "now": format_timestamp(now),
            "scenario": self.scenario,
            "organization": self.organization_id,
            "projects": self.projects(),
            "jobs": [job.to_dict() for job in jobs],
            "pending_steps": pending,
            "faults": self.faults.describe(),
            "legal_next": {job.id: list(legal_targets(self._spec.lifecycle, job)) for job in jobs},
            "states": list(self._spec.lifecycle.states),
        }
