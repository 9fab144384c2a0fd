"""The only way a processor reaches the network: an SSRF guard around `requests`.

A marketer types any URL into a processor, so the server must not become a door into the
office network or the cloud metadata service. Every hop (the first request and each redirect)
is resolved and checked here; loopback, private, link-local, multicast, reserved and
unspecified addresses — including IPv4 hidden inside IPv6 — are refused unless the host or an
IP/CIDR is on settings.http_allow_private_hosts. The connection is then pinned to the very IP
that was checked (Host header and TLS SNI keep the name), so a DNS answer that changes
between the check and the connect (DNS rebinding) cannot redirect it.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection

from handlers.deadline import TotalDeadline, unwatch_socket, watch_socket
from handlers.errors import PermanentError, RetryableError

Resolver = Callable[..., list]
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Credentials must not follow a redirect to another host.
CROSS_HOST_DROP = ("authorization", "cookie", "proxy-authorization")
DEFAULT_HEADERS = {"User-Agent": "Cunkebao-Processor/1.0", "Accept": "application/json, */*;q=0.5"}


class BlockedDestination(PermanentError):
    """The target is refused by the outbound security policy."""


@dataclass(frozen=True)
class VettedTarget:
    scheme: str
    host: str
    port: int
    ip: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass
class FetchResult:
    status: int
    headers: CaseInsensitiveDict
    body: bytes
    truncated: bool
    url: str
    hops: list = field(default_factory=list)


def _embedded_ipv4(ip) -> list:
    if ip.version != 6:
        return []
    return [v4 for v4 in (ip.ipv4_mapped, ip.sixtofour, ip.teredo and ip.teredo[1]) if v4]


def is_forbidden_ip(ip) -> bool:
    """True for every address a public webhook has no business resolving to."""
    for candidate in [ip, *_embedded_ipv4(ip)]:
        if (candidate.is_loopback or candidate.is_private or candidate.is_link_local
                or candidate.is_multicast or candidate.is_reserved or candidate.is_unspecified
                or not candidate.is_global):
            return True
    return False


def _allow_listed(host: str, ip, allow: Sequence[str]) -> bool:
    for entry in allow:
        entry = entry.strip().lower().rstrip(".")
        if not entry:
            continue
        if entry == host:
            return True
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if any(c in network for c in [ip, *_embedded_ipv4(ip)] if c.version == network.version):
            return True
    return False


def vet_url(url: str, allow: Sequence[str] = (), resolver: Resolver = socket.getaddrinfo) -> VettedTarget:
    """Checks scheme, host and every resolved address; returns the IP to pin the connection to."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedDestination(f"地址格式不正确：{url}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BlockedDestination(f"只支持 http/https 地址，不支持「{parts.scheme or '无协议'}」")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise BlockedDestination(f"地址缺少主机名：{url}")
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        message = f"无法解析域名 {host}"
        if exc.errno == socket.EAI_AGAIN:
            raise RetryableError(message + "（DNS 暂时不可用）") from exc
        raise PermanentError(message) from exc
    addresses = []
    for info in infos:
        address = info[4][0].split("%", 1)[0]  # drop an IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise PermanentError(f"无法解析域名 {host}")
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if is_forbidden_ip(ip) and not _allow_listed(host, ip, allow):
            raise BlockedDestination(f"目标地址 {address} 属于内网/回环地址，已被安全策略拒绝")
    return VettedTarget(scheme=scheme, host=host, port=port, ip=addresses[0])


class _DeadlineMixin:
    """Registers each socket with the running TotalDeadline, so a slow peer is cut off in time."""

    def _new_conn(self):
        sock = super()._new_conn()
        watch_socket(sock)
        return sock

    def close(self):
        unwatch_socket(self.sock)
        super().close()


class DeadlineHTTPConnection(_DeadlineMixin, HTTPConnection):
    pass


class DeadlineHTTPSConnection(_DeadlineMixin, HTTPSConnection):
    pass


class PinnedAdapter(HTTPAdapter):
    """Connects to the vetted IP whatever DNS says now; Host and SNI still carry the name."""

    def __init__(self, target: VettedTarget):
        self.target = target
        super().__init__(max_retries=0)

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        if (host_params["host"] or "").strip("[]").lower().rstrip(".") != self.target.host:
            raise BlockedDestination("请求的主机与已校验的主机不一致，已拒绝")
        host_params = dict(host_params, host=self.target.ip)
        if host_params["scheme"] == "https":
            pool_kwargs = dict(pool_kwargs, server_hostname=self.target.host)
        pool = self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)
        pool.ConnectionCls = DeadlineHTTPSConnection if host_params["scheme"] == "https" else DeadlineHTTPConnection
        return pool


def _send_once(target: VettedTarget, prepared, timeout: float):
    session = requests.Session()
    session.trust_env = False  # a proxy from the environment would resolve names itself
    session.mount(f"{target.scheme}://", PinnedAdapter(target))
    prepared.headers["Host"] = target.host_header
    try:
        return session, session.send(prepared, stream=True, timeout=timeout, allow_redirects=False)
    except BaseException:
        session.close()
        raise


def _read_capped(response, max_bytes: int, deadline: TotalDeadline) -> tuple[bytes, bool]:
    # Read one byte past the cap to tell "exactly the cap" from "more than the cap".
    chunks, size = [], 0
    for chunk in response.iter_content(8192):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            return b"".join(chunks)[:max_bytes], True
        if deadline.passed():
            raise requests.Timeout("total time exceeded")
    return b"".join(chunks), False


def _prepare(method: str, url: str, params, headers: dict, body):
    try:
        return requests.Request(method, url, params=params, headers=headers, data=body).prepare()
    except (requests.RequestException, ValueError) as exc:
        # A header value with a line break or a malformed URL is the caller's data, not a bug.
        raise PermanentError(f"请求无法构造：{exc}") from exc


def fetch(settings, method: str, url: str, *, params=None, headers: Optional[dict] = None,
          body: Optional[bytes] = None, timeout: Optional[float] = None,
          max_bytes: Optional[int] = None, max_redirects: int = 3,
          resolver: Resolver = socket.getaddrinfo) -> FetchResult:
    """One guarded request; redirects are followed only after the new hop passes the guard.

    `timeout` is the total deadline of the whole exchange — every hop's connect, TLS, headers
    and body — not a per-read timeout, so a peer dripping bytes cannot hold the step longer.
    """
    timeout = float(timeout or settings.http_default_timeout_seconds)
    with TotalDeadline(timeout) as deadline:
        return _fetch(settings, method, url, params, headers, body, timeout,
                      int(max_bytes or settings.http_max_response_bytes), max_redirects, resolver, deadline)


def _fetch(settings, method, url, params, headers, body, timeout, max_bytes, max_redirects, resolver,
           deadline: TotalDeadline) -> FetchResult:
    method, headers, hops = method.upper(), {**DEFAULT_HEADERS, **(headers or {})}, []
    while True:
        target = vet_url(url, settings.http_allow_private_hosts, resolver)
        prepared = _prepare(method, url, params, headers, body)
        hops.append(prepared.url)
        try:
            if deadline.passed():
                raise requests.Timeout("total time exceeded")
            session, response = _send_once(target, prepared, deadline.remaining())
            with session, response:
                location = response.headers.get("Location")
                if response.status_code in REDIRECT_STATUSES and location:
                    status = response.status_code
                else:
                    data, truncated = _read_capped(response, max_bytes, deadline)
                    return FetchResult(response.status_code, response.headers, data, truncated,
                                       prepared.url, hops)
        except requests.RequestException as exc:
            raise _failure(exc, target, timeout, deadline) from exc
        if len(hops) > max_redirects:
            raise PermanentError(f"重定向次数超过 {max_redirects} 次，已停止")
        next_url = urljoin(prepared.url, location)
        if urlsplit(next_url).hostname != target.host:
            headers = {k: v for k, v in headers.items() if k.lower() not in CROSS_HOST_DROP}
        if status == 303 or (status in (301, 302) and method not in ("GET", "HEAD")):
            method, body = ("HEAD" if method == "HEAD" else "GET"), None
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        url, params = next_url, None  # the Location already carries its own query


def _failure(exc: requests.RequestException, target: VettedTarget, timeout: float,
             deadline: TotalDeadline):
    # A cut-off by the deadline surfaces as a reset or an incomplete read: name it a timeout.
    if isinstance(exc, requests.Timeout) or deadline.passed():
        return RetryableError(f"请求 {target.host} 超时（总时限 {timeout:g} 秒）")
    if isinstance(exc, requests.exceptions.SSLError):
        return PermanentError(f"与 {target.host} 的 TLS 握手或证书校验失败")
    if isinstance(exc, requests.ConnectionError):
        return RetryableError(f"无法连接 {target.host}：{type(exc).__name__}")
    return PermanentError(f"请求 {target.host} 失败：{exc}")
