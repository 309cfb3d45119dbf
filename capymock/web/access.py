"""Who may reach a served mock: which `Host` names it answers (a DNS-rebinding guard), which
browser origins may use its control API, and which folders the control API may load files from.

The Capy API (`/v1/...`) is for browser apps on any origin (it wants a token); the control API
and the dashboard answer only their own origin, loopback origins on the same port, and the
origins the user allows.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from capymock.web.environ import Environ, header

LOOPBACK_NAMES = ("localhost",)
SIMPLE_CONTENT_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")
"""Content types a browser sends cross-origin without asking first (no preflight)."""


@dataclass(frozen=True)
class Access:
    """The rules one served app applies before anything else.

    `hosts` None answers any `Host` (an app called in-process, with no socket to rebind).
    """

    hosts: tuple[str, ...] | None = None
    """Host names answered besides loopback ones (`--host`, `--allow-host`)."""
    origins: tuple[str, ...] = ()
    """Browser origins allowed on the control API besides its own and loopback ones on its port."""
    scenario_dirs: tuple[Path, ...] = ()
    """Folders the control API may load scenario files from (resolved, symlinks followed)."""

    @classmethod
    def serving(
        cls,
        host: str,
        *,
        allow_hosts: Iterable[str] = (),
        allow_origins: Iterable[str] = (),
        scenario_dirs: Iterable[Path] = (),
    ) -> Access:
        """The rules of a mock listening on `host`."""
        return cls(
            hosts=tuple(dict.fromkeys(_hostname(h) for h in (host, *allow_hosts))),
            origins=tuple(origin.rstrip("/").lower() for origin in allow_origins),
            scenario_dirs=tuple(dict.fromkeys(Path(d).resolve() for d in scenario_dirs)),
        )

    def misdirected(self, environ: Environ) -> str | None:
        """Why this request's `Host` is not answered (None: it is)."""
        given = environ.get("HTTP_HOST")
        if self.hosts is None or not given:
            return None
        name = _hostname(given)
        if is_loopback(name) or name in self.hosts:
            return None
        allowed = ", ".join(["localhost", "127.0.0.1", "::1", *(h for h in self.hosts if not is_loopback(h))])
        return (
            f"this mock does not answer for Host {given[:100]!r} (a guard against DNS rebinding); "
            f"it answers {allowed}. To allow this name: capymock serve --allow-host {name[:100]}"
        )

    def origin_allowed(self, origin: str, environ: Environ) -> bool:
        """Whether a browser page of `origin` may use the control API."""
        origin = origin.rstrip("/").lower()
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False  # "null" (sandboxed frames, files) and anything odd
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{(environ.get('HTTP_HOST') or '').lower()}"
        if origin == own:
            return True
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return False
        return is_loopback(parts.hostname) and str(port) == str(environ.get("SERVER_PORT"))


@functools.lru_cache(maxsize=1024)
def is_loopback(name: str) -> bool:
    """`localhost`, or an address of the loopback network (127.0.0.0/8, ::1)."""
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=1024)
def _hostname(host: str) -> str:
    """A `Host` header or `--host` value without its port and brackets, lower case."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host  # a bare IPv6 address, or a name without a port


def simple_content_type(environ: Environ) -> bool:
    """Whether the body's type is one a cross-origin page may send without a preflight."""
    media = (header(environ, "Content-Type") or "").split(";", 1)[0].strip().lower()
    return media in SIMPLE_CONTENT_TYPES
