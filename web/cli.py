"""The `cunkebao` command: init, serve, worker, scheduler, apps/users/tokens administration."""
from __future__ import annotations

import ipaddress
import json
import os
import secrets
import signal
import sys
import threading

import click

from config.settings import load_settings


def _runtime(settings=None):
    from web.device_wiring import make_runtime

    return make_runtime(settings or load_settings())


@click.group()
def main():
    """存客宝 automation server."""


@main.command()
@click.option("--demo", is_flag=True, help="创建演示数据（内置事件、演示应用、示例策略与事件）")
@click.option("--admin", "admin_name", default="admin", show_default=True)
def init(demo, admin_name):
    """Migrate the database, create built-in roles and the admin user (and demo data)."""
    from crm.people import service as people
    from web.migrate import upgrade

    settings = load_settings()
    upgrade(settings.resolved_database_url())
    rt = _runtime(settings)
    people.ensure_builtin_roles(rt.services.db)
    settings.var_dir.mkdir(parents=True, exist_ok=True)  # on PostgreSQL nothing else creates it
    password_file = settings.var_dir / "admin-initial-password.txt"
    if people.get_user_by_username(rt.services.db, admin_name) is None:
        password = "Ckb" + secrets.token_urlsafe(9) + "9"
        people.create_user(rt.services.db, admin_name, password, display_name="系统管理员", roles=["admin"], is_admin=True)
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")
        click.echo(f"管理员账号：{admin_name}  初始密码：{password}（已保存到 {password_file}）")
    elif password_file.exists():
        click.echo(f"管理员账号：{admin_name}  初始密码见 {password_file}")
    if demo:
        from web.demo import seed_demo, seed_demo_devices

        info = seed_demo(rt)
        seed_demo_devices(rt, settings.var_dir, "127.0.0.1:5000")
        from web.demo_leads import seed_demo_leads

        seed_demo_leads(rt)
        if info["secret"]:
            click.echo(f"演示应用 app_key={info['app_key']} secret={info['secret']}（仅显示一次）")
        rt.tick()  # the demo leads become customers
        from web.demo_commerce import seed_demo_commerce

        seed_demo_commerce(rt)  # products, a month of orders, targets, rollups (数据中心)
        rt.tick()
        from web.demo_chats import seed_demo_chats; seed_demo_chats(rt)  # noqa: E702 - accounts, friends, chats (会话中心)
    click.echo("初始化完成")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="gunicorn 进程数")
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--no-background", is_flag=True, help="只提供 Web/API，不在本进程分发事件（由 worker 进程负责）")
@click.option("--simulate", default=0, show_default=True, type=int,
              help="同时运行 N 台演示用模拟手机（令牌来自 init --demo）")
def serve(host, port, workers, threads, no_background, simulate):
    """Web console + API + dispatcher + scheduler in one process (gunicorn, gthread workers)."""
    from web.demo import DEMO_TOKENS_FILE
    from web.wsgi_server import run_gunicorn

    overrides = {}
    if "CKB_SECURE_COOKIES" not in os.environ and _loopback(host):
        overrides["secure_cookies"] = False  # plain http on loopback; behind TLS keep the default
    settings = load_settings(**overrides)
    if simulate:
        _start_demo_phones(host, port, simulate, settings.var_dir / DEMO_TOKENS_FILE)
    click.echo(f"存客宝已启动：http://{host}:{port}/  （管理员初始密码见 {settings.var_dir / 'admin-initial-password.txt'}）")
    run_gunicorn(settings, host, port, workers, threads, background=not no_background)


def _start_demo_phones(host: str, port: int, count: int, tokens_file) -> None:
    """Runs the simulator in its own process once the server answers; it ends with the server."""
    import atexit
    import socket
    import subprocess
    import time

    if not tokens_file.exists():
        click.echo("没有演示手机令牌（先运行 cunkebao init --demo），不启动模拟手机")
        return
    url = f"ws://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/devices/ws"
    state: dict = {}

    def launch():
        for _ in range(120):  # up to a minute for gunicorn to bind
            try:
                socket.create_connection((url.split("//")[1].split("/")[0].rsplit(":", 1)[0], port), 0.5).close()
                break
            except OSError:
                time.sleep(0.5)
        state["proc"] = subprocess.Popen([sys.executable, "-m", "web.cli", "devices", "simulate", "--count", str(count),
                                          "--url", url, "--tokens-file", str(tokens_file)])

    atexit.register(lambda: state.get("proc") and state["proc"].terminate())
    threading.Thread(target=launch, name="ckb-demo-phones", daemon=True).start()


def _run_until_signal(rt, **parts):
    """Runs until SIGTERM/SIGINT, then drains: stop claiming, let running steps finish (up to
    CKB_SHUTDOWN_DRAIN_SECONDS), hand back the rest, release the leader lease, exit."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    rt.start(**parts)
    stop.wait()
    rt.stop(drain_seconds=rt.settings.shutdown_drain_seconds)
    busy = [t for t in threading.enumerate() if t.is_alive() and not t.daemon and t is not threading.main_thread()]
    if busy:
        # A processor still running past the drain must not hold the exit: its step keeps its
        # lease until we are gone, then any worker takes it over (history shows 中断).
        sys.stderr.flush()
        os._exit(0)


@main.command()
def worker():
    """Dispatch stored events and run due steps (run several for scale)."""
    _run_until_signal(_runtime(), dispatch=True, sweep=True, cron=False)


@main.command()
def scheduler():
    """Run the cron jobs (only the elected leader acts) and sweep due steps."""
    _run_until_signal(_runtime(), dispatch=False, sweep=True, cron=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True, type=int)
@click.option("--threads", default=16, show_default=True, type=int,
              help="数据库写入线程数（hello、accounts、上报）；连接本身不占线程")
def gateway(host, port, threads):
    """设备网关：手机的 WebSocket（/devices/ws）在一个事件循环上，可承载上万台手机。"""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    from config import metrics
    from devices.async_gateway import AsyncGateway, limit_malloc_arenas, log_long_gc_pauses, raise_open_files_limit
    from devices.gateway import Gateway
    from web.devices_ws import configure, expose

    limit_malloc_arenas()  # before any thread starts
    rt = _runtime()
    gw = expose(configure(Gateway(rt.services, rt.ingestor)), rt)

    def http(path: str, remote: str):
        if path == "/healthz":
            return 200, "text/plain; charset=utf-8", "ok\n"
        if path == "/metrics" and _loopback(remote):  # the process's own figures, as web's /metrics
            return 200, CONTENT_TYPE_LATEST, generate_latest(metrics.REGISTRY).decode("utf-8")
        return None

    limit = raise_open_files_limit(65536)
    log_long_gc_pauses()
    rt.start_beacon({"gateway"})
    click.echo(f"设备网关已启动：ws://{host}:{port}/devices/ws（最多约 {max(0, limit - 100)} 台手机：打开文件数上限 {limit}）")
    try:
        AsyncGateway(gw, threads=threads, http=http).run(host, port)
    finally:
        rt.beacon.stop()


@main.group()
def apps():
    """应用管理."""


@apps.command("create")
@click.argument("name")
@click.option("--ip", "ips", multiple=True, help="允许的来源 IP/CIDR，可多次指定")
def apps_create(name, ips):
    from events.apps import create_app_record
    from events.errors import EventsError

    rt = _runtime()
    try:
        with rt.services.db.write() as s:
            app, secret = create_app_record(s, rt.services.secret_box, {"name": name, "ip_allowlist": list(ips)})
    except EventsError as exc:
        raise click.ClickException(exc.message + "：" + "；".join(exc.errors.values()))
    click.echo(json.dumps({"id": app.id, "name": app.name, "app_key": app.app_key, "secret": secret,
                           "ip_allowlist": app.ip_allowlist}, ensure_ascii=False))


@main.group()
def users():
    """用户管理."""


@users.command("create")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", "roles", multiple=True, default=["operator"], show_default=True)
@click.option("--admin", is_flag=True)
def users_create(username, password, roles, admin):
    from crm.people import service as people
    from crm.people.errors import PeopleError

    rt = _runtime()
    people.ensure_builtin_roles(rt.services.db)
    try:
        user = people.create_user(rt.services.db, username, password, roles=list(roles), is_admin=admin)
    except PeopleError as exc:
        raise click.ClickException(str(exc))
    click.echo(json.dumps({"id": user.id, "username": user.username}, ensure_ascii=False))


@main.group()
def tokens():
    """API 令牌."""


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="cli", show_default=True)
def tokens_create(username, name):
    from crm.people import service as people
    from crm.people.errors import PeopleError

    rt = _runtime()
    try:
        token = people.create_token(rt.services.db, username, name)
    except PeopleError as exc:
        raise click.ClickException(str(exc))
    click.echo(token)


@main.group()
def devices():
    """设备：添加设备、运行模拟手机."""


@devices.command("add")
@click.option("--count", default=1, show_default=True, type=int, help="添加的设备数量")
@click.option("--name", "prefix", default="模拟手机", show_default=True, help="设备名称前缀")
@click.option("--host", default="127.0.0.1:5000", show_default=True, help="二维码里的服务器地址")
@click.option("--tokens-file", type=click.Path(dir_okay=False), required=True, help="令牌写入此文件（每行一个，权限 600）")
def devices_add(count, prefix, host, tokens_file):
    """Create N devices and write their tokens (shown only now) to a file."""
    from devices.registry import add_device

    rt = _runtime()
    tokens = []
    with rt.services.db.write() as s:
        for i in range(count):
            _device, token, _qr = add_device(s, f"{prefix}{i + 1:04d}" if count > 1 else prefix, host)
            tokens.append(token)
    fd = os.open(tokens_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(tokens) + "\n")
    click.echo(f"已添加 {count} 台设备，令牌已写入 {tokens_file}")


@devices.command("simulate")
@click.option("--count", default=3, show_default=True, type=int, help="模拟手机数量（不超过令牌数）")
@click.option("--url", default="ws://127.0.0.1:5000/devices/ws", show_default=True)
@click.option("--tokens-file", type=click.Path(exists=True, dir_okay=False), required=True)
@click.option("--message-rate", default=1.0, show_default=True, type=float, help="每个微信号每分钟收到的消息数")
@click.option("--moment-rate", default=0.5, show_default=True, type=float, help="每个微信号每分钟看到的好友朋友圈数")
@click.option("--friend-request-rate", default=0.2, show_default=True, type=float, help="每个微信号每分钟收到的好友请求数")
@click.option("--join-rate", default=0.2, show_default=True, type=float, help="每个微信号每分钟的入群人数")
@click.option("--group-fail-rate", default=0.0, show_default=True, type=float, help="发送必定失败的群所占比例")
@click.option("--min-send-gap", default=3.0, show_default=True, type=float, help="同一微信号两次发送间隔低于此秒数即触发「操作过于频繁」")
@click.option("--accounts", default="1-3", show_default=True, help="每台手机上的微信号数量（N 或 最少-最多）")
@click.option("--friends", default=20, show_default=True, type=int, help="每个微信号的好友数")
@click.option("--groups", default=3, show_default=True, type=int, help="每个微信号的群数")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--ready-file", type=click.Path(dir_okay=False), help="全部连上后把统计（含每台的连接耗时）写成 JSON 到此文件")
def devices_simulate(count, url, tokens_file, message_rate, moment_rate, friend_request_rate, join_rate,
                     group_fail_rate, min_send_gap, accounts, friends, groups, seed, ready_file):
    """Run N simulated phones against a running server until Ctrl-C."""
    from devices.simulator import PhoneConfig, SimulatedFleet

    with open(tokens_file, encoding="utf-8") as fh:
        tokens = [line.strip() for line in fh if line.strip()][:count]
    if not tokens:
        raise click.ClickException(f"{tokens_file} 里没有令牌（先运行 cunkebao devices add）")
    low, _, high = accounts.partition("-")
    config = PhoneConfig(accounts=(int(low), int(high or low)), friends=friends, groups=groups, message_rate=message_rate,
                         moment_rate=moment_rate, friend_request_rate=friend_request_rate, join_rate=join_rate,
                         group_fail_rate=group_fail_rate, min_send_gap=min_send_gap, seed=seed)
    fleet = SimulatedFleet(url, tokens, config)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    fleet.start(timeout=900)
    stats = fleet.stats()
    click.echo(f"{stats['connected']} 台模拟手机已连接（{stats['accounts']} 个微信号），拒绝 {stats['refused']} 台；Ctrl-C 结束")
    for phone in fleet.refused()[:5]:
        click.echo(f"  被拒绝：{phone.stats.refused}")
    if ready_file:
        stats["connect_seconds"] = [p.stats.connect_seconds for p in fleet.phones if p.stats.connect_seconds is not None]
        with open(ready_file + ".tmp", "w", encoding="utf-8") as fh:
            json.dump(stats, fh)
        os.replace(ready_file + ".tmp", ready_file)
    while not stop.wait(60):
        click.echo(json.dumps(fleet.stats(), ensure_ascii=False))
    fleet.stop()


from web.cli_jobs import jobs as _jobs_group  # noqa: E402 - 任务调度 (cunkebao jobs …)
main.add_command(_jobs_group)

if __name__ == "__main__":
    sys.exit(main())
