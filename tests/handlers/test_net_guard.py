"""The SSRF guard: what it refuses, what the allow-list lets through, and IP pinning."""
from __future__ import annotations

import socket

import pytest

from handlers.errors import PermanentError, RetryableError
from handlers.net_guard import BlockedDestination, fetch, vet_url
from tests.support.fake_http import Reply


def resolver_to(*addresses):
    calls = []

    def resolve(host, port, type=0):
        calls.append(host)
        family = lambda a: socket.AF_INET6 if ":" in a else socket.AF_INET  # noqa: E731
        return [(family(a), socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    resolve.calls = calls
    return resolve


@pytest.mark.parametrize("url, shown", [
    ("http://127.0.0.1/hook", "127.0.0.1"),
    ("http://10.1.2.3:8080/x", "10.1.2.3"),
    ("http://192.168.1.10/", "192.168.1.10"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
    ("http://[::1]:9000/", "::1"),
    ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
    ("http://0.0.0.0/", "0.0.0.0"),
    ("http://224.0.0.1/", "224.0.0.1"),
    ("http://100.64.0.1/", "100.64.0.1"),
    ("http://localhost:5000/admin", "127.0.0.1"),
])
def test_private_and_special_addresses_are_refused(url, shown):
    with pytest.raises(BlockedDestination) as err:
        vet_url(url)
    assert err.value.message == f"目标地址 {shown} 属于内网/回环地址，已被安全策略拒绝"


def test_hostname_resolving_to_private_address_is_refused():
    with pytest.raises(BlockedDestination, match="10.0.0.5"):
        vet_url("https://intranet.example.com/", resolver=resolver_to("93.184.216.34", "10.0.0.5"))


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://x/", "example.com/x"])
def test_only_http_and_https(url):
    with pytest.raises(BlockedDestination, match="只支持 http/https"):
        vet_url(url)


def test_public_address_passes_and_is_pinned():
    target = vet_url("https://api.example.com/v1", resolver=resolver_to("93.184.216.34"))
    assert (target.scheme, target.host, target.port, target.ip) == ("https", "api.example.com", 443, "93.184.216.34")
    assert target.host_header == "api.example.com"


@pytest.mark.parametrize("allow", [["127.0.0.1"], ["127.0.0.0/8"], ["LOCALHOST"]])
def test_allow_list_by_host_ip_or_cidr(allow):
    assert vet_url("http://localhost:8080/", allow, resolver=resolver_to("127.0.0.1")).ip == "127.0.0.1"


def test_allow_list_does_not_open_other_private_addresses():
    with pytest.raises(BlockedDestination):
        vet_url("http://10.0.0.1/", ["127.0.0.1"])


def test_connection_is_pinned_to_the_vetted_ip_and_keeps_host(services, fake_http):
    # "hook.example" does not exist in DNS: the request only reaches the fake server because
    # the connection goes to the IP the guard checked, while Host still names the site.
    resolver = resolver_to("127.0.0.1")
    settings = services.settings.model_copy(update={"http_allow_private_hosts": ["hook.example"]})
    result = fetch(settings, "GET", f"http://hook.example:{fake_http.port}/pinned", resolver=resolver)
    assert result.status == 200
    assert resolver.calls == ["hook.example"]
    assert fake_http.requests_to("/pinned")[0].headers["Host"] == f"hook.example:{fake_http.port}"


def test_redirect_to_private_address_is_refused(loopback_services, fake_http):
    fake_http.redirect("/jump", "http://10.0.0.1/steal")
    with pytest.raises(BlockedDestination, match="10.0.0.1"):
        fetch(loopback_services.settings, "GET", fake_http.url("/jump"))


def test_redirects_are_rechecked_and_followed(loopback_services, fake_http):
    fake_http.redirect("/old", "/new", status=303)
    fake_http.script("/new", Reply(200, {"moved": True}))
    result = fetch(loopback_services.settings, "POST", fake_http.url("/old"), body=b"{}",
                   headers={"Content-Type": "application/json"})
    assert result.status == 200 and result.hops[-1].endswith("/new")
    assert fake_http.requests_to("/new")[0].method == "GET"  # 303 turns POST into GET


def test_redirect_loop_stops(loopback_services, fake_http):
    fake_http.redirect("/loop", "/loop")
    with pytest.raises(PermanentError, match="重定向次数"):
        fetch(loopback_services.settings, "GET", fake_http.url("/loop"))


def test_response_is_capped_while_streaming(loopback_services, fake_http):
    fake_http.script("/big", Reply(200, size=20_000_000))
    result = fetch(loopback_services.settings, "GET", fake_http.url("/big"), max_bytes=4096)
    assert result.truncated and len(result.body) == 4096


def test_timeout_is_retryable(loopback_services, fake_http):
    fake_http.script("/slow", Reply(200, delay=3))
    with pytest.raises(RetryableError, match="超时"):
        fetch(loopback_services.settings, "GET", fake_http.url("/slow"), timeout=0.3)


def test_connection_refused_is_retryable(loopback_services):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(RetryableError, match="无法连接"):
        fetch(loopback_services.settings, "GET", f"http://127.0.0.1:{port}/")


def test_unresolvable_host_is_permanent():
    def nowhere(host, port, type=0):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(PermanentError, match="无法解析域名"):
        vet_url("http://no-such-host.invalid/", resolver=nowhere)


def _self_signed(tmp_path, name: str):
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_https_pins_ip_but_sends_the_name_as_sni_and_verifies(services, tmp_path):
    import ssl

    from tests.support.fake_http import FakeHttpServer

    cert_file, key_file = _self_signed(tmp_path, "hook.example")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    seen = []
    context.sni_callback = lambda sock, server_name, ctx: seen.append(server_name)
    settings = services.settings.model_copy(update={"http_allow_private_hosts": ["hook.example"]})
    with FakeHttpServer(ssl_context=context) as server:
        with pytest.raises(PermanentError, match="TLS"):  # self-signed: verification must stay on
            fetch(settings, "GET", f"https://hook.example:{server.port}/", resolver=resolver_to("127.0.0.1"))
    assert seen == ["hook.example"]
