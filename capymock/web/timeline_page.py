"""The timeline of a file (`capymock show`): the lanes `FakeApi.lanes` answers, drawn by the
timeline page (`timeline.html`, the one the control API serves) with the data inline, or as
one line of text per job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from capymock.core.durations import format_duration
from capymock.core.timestamps import parse_timestamp
from capymock.web.control import TIMELINE

_SLOT = '<script id="capymock-data" type="application/json">null</script>'


def html_page(answer: Mapping[str, Any], title: str) -> str:
    """The timeline page with `answer` (every lane, `FakeApi.lanes`) inline: it needs no network."""
    data = json.dumps({**answer, "title": title}, ensure_ascii=False, separators=(",", ":"))
    # Inside <script> nothing may close the element or open a comment: escape <, > and &.
    data = data.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    template = TIMELINE.read_text(encoding="utf-8")
    if _SLOT not in template:
        raise AssertionError("timeline.html lost its data slot")
    page = template.replace(_SLOT, _SLOT.replace(">null<", f">{data}<"), 1)
    return page.replace(
        "<title>capymock timeline</title>", f"<title>{_escape(title)} · capymock timeline</title>", 1
    )


def text_lines(answer: Mapping[str, Any]) -> list[str]:
    """One line a job: its id, its first state and time, then each later state with the time
    since the one before (`+2s`), then the steps to come (`after 2 reads` where reads decide)."""
    lanes = answer["lanes"]
    width = max((len(lane["job_id"]) for lane in lanes), default=0)
    field = str(answer.get("state_field", "state"))
    return [f"{lane['job_id'].ljust(width)}  {_story(lane, field)}" for lane in lanes]


def _story(lane: Mapping[str, Any], field: str) -> str:
    parts: list[str] = []
    last: datetime | None = None
    state = lane["job"].get(field)
    if not lane["changes"] and state is not None:  # its changes are past the history's bound
        parts.append(f"{state} (its changes are not kept)")
    for change in lane["changes"]:
        at = parse_timestamp(change["at"])
        parts.append(
            f"{change['state']} {at:%H:%M:%S}" if last is None else f"{change['state']} {_since(at, last)}"
        )
        last = at
    for row in lane["to_come"]:
        if "due_at" in row:
            at = parse_timestamp(row["due_at"])
            parts.append(f"{row['state']} {_since(at, last) if last is not None else f'{at:%H:%M:%S}'}")
            last = at
        elif "after_polls" in row:
            reads = row["after_polls"]
            parts.append(f"{row['state']} after {reads} read{'' if reads == 1 else 's'}")
        else:
            parts.append(f"{row['state']} +{format_duration(timedelta(seconds=row.get('after', 0)))}")
    return " → ".join(parts)


def _since(at: datetime, last: datetime) -> str:
    return f"+{format_duration(at - last)}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
