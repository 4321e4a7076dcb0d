"""Polite HTTP: httpx for the transfer, tenacity for retries, Protego for robots.txt.

One ``PoliteClient`` per run.  Every request goes through ``fetch``, which
applies, in order: the URL safety check (again on every redirect hop),
robots.txt, the per-host concurrency limit and minimum delay, conditional
GET headers, a streamed size cap and the content-type allow-list.  Retries
(connection errors, 429, 5xx; honouring Retry-After) wrap one hop; other
4xx answers are final.  Nothing here raises for a bad URL or a bad answer:
the outcome is data (``Fetched``) that the run stores.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
from protego import Protego
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt

from govnlp.fetch.safety import CheckedBackend, UnsafeURL, check_url, system_resolver

REDIRECTS = (301, 302, 303, 307, 308)
CONTENT_KINDS = {
    "text/html": "html", "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "text/plain": "text",
    "application/json": "json", "application/ld+json": "json",
    "application/rss+xml": "xml", "application/atom+xml": "xml", "application/rdf+xml": "xml",
    "application/xml": "xml", "text/xml": "xml",
}


@dataclass(frozen=True)
class FetchLimits:
    user_agent: str
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_bytes: int = 20_000_000
    retries: int = 3
    backoff_seconds: float = 1.0
    max_retry_after: float = 120.0
    per_host_concurrency: int = 2
    min_delay_seconds: float = 1.0
    max_redirects: int = 5
    allow_private: bool = False


@dataclass
class Fetched:
    """One URL's answer (after redirects and retries), or why there is none."""

    url: str
    outcome: str  # ok | not_modified | failed | refused | robots_disallowed | rejected
    final_url: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    kind: str | None = None  # html | pdf | text | json | xml
    error_type: str | None = None
    message: str | None = None
    attempts: int = 0
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(tzinfo=None))
    seconds: float = 0.0

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class _Final(Exception):
    """A hop that ended without a usable body; carries the Fetched to return."""

    def __init__(self, fetched: Fetched):
        super().__init__(fetched.message)
        self.fetched = fetched


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def content_kind(content_type: str | None) -> str | None:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return CONTENT_KINDS.get(mime)


class HostGate:
    """At most N requests in flight per host, and a minimum delay between their starts."""

    def __init__(self, concurrency: int, min_delay: float):
        self._slots = defaultdict(lambda: threading.BoundedSemaphore(max(1, concurrency)))
        self._next_start: dict[str, float] = {}
        self._lock = threading.Lock()
        self.min_delay = min_delay

    @contextmanager
    def slot(self, host: str):
        with self._lock:
            semaphore = self._slots[host]
        with semaphore:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start.get(host, now))
                self._next_start[host] = start + self.min_delay
            if start > now:
                time.sleep(start - now)
            yield


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool whose connections go only to checked addresses (see safety.CheckedBackend)."""

    def __init__(self, allow_private: bool, resolver=system_resolver):
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(trust_env=False), max_connections=100,
                                             max_keepalive_connections=20, keepalive_expiry=5.0,
                                             network_backend=CheckedBackend(allow_private, resolver))


class PoliteClient:
    def __init__(self, limits: FetchLimits, resolver=system_resolver):
        self.limits = limits
        self.resolver = resolver
        self.gate = HostGate(limits.per_host_concurrency, limits.min_delay_seconds)
        self.http = httpx.Client(
            transport=PinnedTransport(limits.allow_private, resolver),
            headers={"User-Agent": limits.user_agent},
            timeout=httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout),
            follow_redirects=False,  # each hop is checked by hand: a redirect may point inside the network
            trust_env=False,  # no proxy from the environment: the address checks must see the real peer
        )
        self._robots: dict[str, Protego | None] = {}
        self._robots_lock = threading.Lock()
        self.robots_fetches: list[Fetched] = []

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- robots.txt ----
    def allowed_by_robots(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._robots_lock:
            if origin not in self._robots:
                fetched = self._fetch(origin + "/robots.txt", {}, robots=False)
                self.robots_fetches.append(fetched)
                self._robots[origin] = self._parse_robots(fetched)
            rules = self._robots[origin]
        return True if rules is None else rules.can_fetch(url, self.limits.user_agent)

    @staticmethod
    def _parse_robots(fetched: Fetched) -> Protego | None:
        """RFC 9309: a 4xx means no rules; an unreachable or 5xx robots.txt means stay out."""
        if fetched.outcome == "ok" and fetched.body is not None:
            return Protego.parse(fetched.body.decode("utf-8", errors="replace"))
        if fetched.status is not None and 400 <= fetched.status < 500:
            return None
        return Protego.parse("User-agent: *\nDisallow: /")

    # ---- one URL ----
    def fetch(self, url: str, validators: dict[str, str] | None = None) -> Fetched:
        """GET the URL politely; ``validators``: etag / last_modified from the previous fetch."""
        headers = {}
        if validators and validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators and validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        return self._fetch(url, headers, robots=True)

    def _fetch(self, url: str, headers: dict[str, str], robots: bool) -> Fetched:
        start = time.monotonic()
        current = url
        attempts = 0
        try:
            for _ in range(self.limits.max_redirects + 1):
                try:
                    check_url(current, self.limits.allow_private, self.resolver)
                except UnsafeURL as exc:
                    via = "" if current == url else f" (redirected from {url})"
                    return self._done(Fetched(url, "refused", final_url=current, error_type="refused_address", message=f"{exc}{via}"), start, attempts)
                if robots and not self.allowed_by_robots(current):
                    return self._done(Fetched(url, "robots_disallowed", final_url=current, error_type="robots_disallowed", message=f"robots.txt of {urlsplit(current).netloc} disallows {current} for {self.limits.user_agent!r}"), start, attempts)
                try:
                    fetched, hop_attempts = self._hop_with_retries(url, current, headers)
                except UnsafeURL as exc:  # the connection's own check (DNS answered differently than for check_url)
                    return self._done(Fetched(url, "refused", final_url=current, error_type="refused_address", message=str(exc)), start, attempts + 1)
                attempts += hop_attempts
                location = fetched.headers.get("location")
                if fetched.status in REDIRECTS and location:
                    current = urljoin(current, location)
                    continue
                return self._done(fetched, start, attempts)
            return self._done(Fetched(url, "failed", final_url=current, error_type="too_many_redirects", message=f"more than {self.limits.max_redirects} redirects from {url}"), start, attempts)
        except Exception as exc:  # noqa: BLE001 - a fetch never takes the run down; the row says what happened
            return self._done(Fetched(url, "failed", final_url=current, error_type="fetch_error", message=f"{type(exc).__name__}: {exc}"), start, attempts)

    @staticmethod
    def _done(fetched: Fetched, start: float, attempts: int) -> Fetched:
        fetched.seconds = round(time.monotonic() - start, 4)
        fetched.attempts = attempts
        return fetched

    def _wait(self, retry_state) -> float:
        exc = retry_state.outcome.exception()
        backoff = self.limits.backoff_seconds * 2 ** (retry_state.attempt_number - 1)
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.limits.max_retry_after)
        return backoff

    def _hop_with_retries(self, url: str, current: str, headers: dict[str, str]) -> tuple[Fetched, int]:
        retrying = Retrying(
            stop=stop_after_attempt(self.limits.retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type((_Retryable, httpx.TransportError)),
            reraise=False,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._hop(url, current, headers), attempt.retry_state.attempt_number
        except RetryError as exc:
            last = exc.last_attempt.exception()
            status = getattr(last, "status", None)
            kind = "http_error" if status else "connection_error"
            return Fetched(url, "failed", final_url=current, status=status, error_type=kind,
                           message=f"{current}: {last} (gave up after {self.limits.retries + 1} attempts)"), self.limits.retries + 1
        raise AssertionError("unreachable")

    def _hop(self, url: str, current: str, headers: dict[str, str]) -> Fetched:
        """One request, one answer: raises _Retryable for what is worth another try."""
        host = urlsplit(current).netloc
        with self.gate.slot(host), self.http.stream("GET", current, headers=headers) as response:
            answer = {k.lower(): v for k, v in response.headers.items()}
            status = response.status_code
            base = dict(url=url, final_url=current, status=status, headers=answer)
            if status == 429 or status >= 500:
                wait = retry_after_seconds(answer.get("retry-after"))
                if wait is not None and wait > self.limits.max_retry_after:
                    return Fetched(**base, outcome="failed", error_type="http_error", message=f"{current}: HTTP {status}, Retry-After {wait:.0f} s is over the {self.limits.max_retry_after:.0f} s limit")
                raise _Retryable(f"HTTP {status}", wait, status)
            if status == 304:
                return Fetched(**base, outcome="not_modified")
            if status in REDIRECTS:
                return Fetched(**base, outcome="failed", error_type="bad_redirect", message=f"{current}: HTTP {status} without a Location") if "location" not in answer else Fetched(**base, outcome="redirect")
            if status >= 400 or status < 200:
                return Fetched(**base, outcome="failed", error_type="http_error", message=f"{current}: HTTP {status}")
            kind = content_kind(answer.get("content-type"))
            if kind is None:
                return Fetched(**base, outcome="rejected", error_type="unsupported_content_type",
                               message=f"{current}: content type {answer.get('content-type') or 'missing'!r} is not HTML, an XML feed, PDF, plain text or JSON")
            declared = answer.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.limits.max_bytes:
                return Fetched(**base, outcome="rejected", kind=kind, error_type="too_large",
                               message=f"{current}: Content-Length {declared} is over the {self.limits.max_bytes}-byte limit; not downloaded")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.limits.max_bytes:
                    return Fetched(**base, outcome="rejected", kind=kind, error_type="too_large",
                                   message=f"{current}: response cut at the {self.limits.max_bytes}-byte limit (streamed, not stored)")
                chunks.append(chunk)
            return Fetched(**base, outcome="ok", kind=kind, body=b"".join(chunks))
