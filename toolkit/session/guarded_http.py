"""The stripe SDK's HTTP client with the live guard in front of every request.

Its own module because it subclasses the SDK's client: the SDK (requests, httpx) loads when a
:class:`~toolkit.session.Session` is made, not on ``import toolkit``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import stripe

from toolkit.session.server_clock import ServerClock

__all__ = ["GuardedHTTPClient"]

log = logging.getLogger(__name__)


class GuardedHTTPClient(stripe.RequestsClient):
    """The SDK's HTTP client with the live guard in front: in live mode without
    ``allow_live=True`` no request but a read ever leaves the machine, whichever door it took
    (a typed method, ``Session.raw``, ``Session.call`` or ``session.client`` directly); and
    every read is counted here, as it leaves (each retry too)."""

    def __init__(
        self,
        guard: Callable[[str, Any], None],
        timeout: float | tuple[float, float],
        api_base: str | None = None,
    ) -> None:
        # The environment's proxy settings (HTTPS_PROXY, NO_PROXY, ...) for the one server a
        # session talks to, read once here: requests would read the whole environment (and
        # look for ~/.netrc) again for every request, a sixth of the CPU a request costs.
        proxies = _proxies_for(api_base) if api_base else None
        super().__init__(timeout=timeout, proxy=proxies or None)  # type: ignore[arg-type]
        self._guard = guard
        #: Requests sent, by method and by answer (a status, or "no answer"): what the
        #: session's summary line says.
        self.sent: Counter[str] = Counter()
        self.answers: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self._api_base = api_base
        #: The server's time, from every answer's ``Date`` header.
        self.clock = ServerClock(self._ask_date)

    def _sent(self, method: str, url: str, status: str, started: float) -> None:
        with self._count_lock:
            self.sent[method.upper()] += 1
            self.answers[status] += 1
        if log.isEnabledFor(logging.DEBUG):  # the path names ids, never the query's values
            took = (time.monotonic() - started) * 1000
            path = urlsplit(url).path
            log.debug("%s %s -> %s in %.0f ms", method.upper(), path, status, took)

    def request(  # type: ignore[override]  # the SDK's RequestsClient has this signature
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> Any:
        """Refuse a write of a guarded live session (and count a read, or refuse it past the
        read allowance), else send it as the SDK would."""
        self._guard(method, headers)
        self._own_session()
        started, status = time.monotonic(), "no answer"
        try:
            answer = self._send(method, url, headers, post_data)
            status = str(answer[1])
            self.clock.saw(answer[2].get("Date"))
            return answer
        finally:
            self._sent(method, url, status, started)

    def _send(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any
    ) -> tuple[bytes, int, Any]:
        """Send one request as the SDK's ``RequestsClient`` does (the same requests session,
        connection pool, TLS verification, proxies and timeouts; its errors turned into the
        SDK's the same way), straight to the session's transport adapter: ``Session.request``
        merges settings, hooks and cookie jars for every request and looks for redirects, a
        third of the CPU the requests library spends on a request. The session's own headers
        (``Accept-Encoding``...) and cookies are still sent and cookies kept; an answer that
        redirects is sent again the SDK's way, which follows it as before."""
        requests = self.requests
        session = self._thread_local.session
        try:
            prepared = requests.PreparedRequest()  # what prepare() does, less what is empty
            prepared.prepare_method(method.upper())
            prepared.prepare_url(url, None)
            prepared.prepare_headers({**session.headers, **(headers or {})})
            prepared.prepare_body(post_data, None, None)
            if "@" in url:  # credentials in api_base: Basic auth, as prepare() would add
                prepared.prepare_auth(None, url)
            if session.cookies:  # cookies a server set, sent back (an empty jar sends none)
                prepared.prepare_cookies(session.cookies)
            prepared.prepare_hooks(None)
            verify = stripe.ca_bundle_path if self._verify_ssl_certs else False
            answer = session.get_adapter(url).send(
                prepared, timeout=self._timeout, verify=verify, proxies=self._proxy or {}
            )
            if not answer.is_redirect:
                if "Set-Cookie" in answer.headers:
                    requests.cookies.extract_cookies_to_jar(session.cookies, prepared, answer.raw)
                return answer.content, answer.status_code, answer.headers
            answer.close()
        except Exception as exc:  # the SDK's own mapping (its RequestsClient catches as widely)
            self._handle_request_error(exc)
        # outside the mapping above: the SDK's client maps its own errors once
        return super().request(method, url, headers, post_data)

    def _ask_date(self) -> str | None:
        """The server's ``Date``, asked with a bare ``HEAD`` (no key, not a read of any account,
        not counted), or None when it cannot be reached."""
        if not self._api_base:
            return None
        self._own_session()
        try:
            answer = self._thread_local.session.head(
                self._api_base, timeout=self._timeout, proxies=self._proxy, allow_redirects=False
            )
        except Exception:  # no network, a refused connection: the caller falls back
            return None
        date = answer.headers.get("Date")
        return str(date) if date else None

    def _own_session(self) -> None:
        """This thread's requests session, which does not read the environment per request
        (its proxies were read once, in ``__init__``)."""
        if getattr(self._thread_local, "session", None) is None:
            session = self.requests.Session()
            session.trust_env = False
            self._thread_local.session = session

    def request_stream(  # type: ignore[override]
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> Any:
        """The streaming twin of :meth:`request`."""
        self._guard(method, headers)
        self._own_session()
        return super().request_stream(method, url, headers, post_data)


def _proxies_for(url: str) -> dict[str, str]:
    """The proxies the environment sets for ``url`` (none when NO_PROXY covers its host)."""
    import requests

    found = requests.utils.get_environ_proxies(url)
    return {k: v for k, v in found.items() if k in ("http", "https") and v}
