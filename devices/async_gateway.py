"""The phones' WebSocket (/devices/ws) on one asyncio event loop: `cunkebao gateway`.

The flask-sock endpoint holds a server thread per connected phone (~290 KiB each, issue 15);
here a phone costs one coroutine and its websockets connection. The session logic is the same
devices.gateway.Gateway: only its blocking steps — hello (token check, presence), accounts,
reports, the disconnect bookkeeping — leave the loop, for a bounded thread pool; heartbeats,
acks and results are queued for the outcome writer, which answers the phone once stored.

Sends may come from any thread (the pool, the outcome writer, command delivery): the transport
hands them to the loop with call_soon_threadsafe, where each becomes a send task. Tasks start
in the order they were scheduled and websockets writes a whole frame before its first await,
so frames leave in the order they were sent.

Each connection reads its frames one after another: a report waits for the accounts frame
before it (it names an account the accounts frame registered), and a phone flooding reports
holds at most one pool thread.
"""
from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
import time
import resource
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from devices.gateway import Gateway
from devices.protocol import MAX_FRAME_BYTES

log = logging.getLogger("ckb.devices.async_gateway")
PATH = "/devices/ws"
STOP_SECONDS = 15  # for the sessions to end on SIGTERM (a phone mid-hello: up to the hello timeout)


class LoopTransport:
    """A websockets server connection as a devices.connections.Transport, usable from any thread."""

    def __init__(self, ws: ServerConnection, loop: asyncio.AbstractEventLoop, tasks: set):
        self.ws = ws
        self.loop = loop
        self._tasks = tasks  # strong references until each send finishes (the loop keeps weak ones)
        self.remote_addr = (ws.remote_address or ("",))[0]

    def send(self, text: str) -> None:
        if self.ws.state is State.CLOSED:
            raise ConnectionError("connection closed")  # Connection marks itself closed
        self._on_loop(self._spawn, lambda: self.ws.send(text))

    def close(self, code: int, reason: str) -> None:
        self._on_loop(self._spawn, lambda: self.ws.close(code, reason))

    def _on_loop(self, fn: Callable, *args) -> None:
        try:
            here = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            here = False
        if here:
            fn(*args)
        else:
            self.loop.call_soon_threadsafe(fn, *args)

    def _spawn(self, make) -> None:
        task = self.loop.create_task(_quietly(make()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _quietly(coro) -> None:
    try:
        await coro
    except ConnectionClosed:
        pass  # the session notices the closed connection and records the disconnect
    except Exception:  # noqa: BLE001 - a broken socket is a disconnect too
        log.debug("send to a phone failed", exc_info=True)


class AsyncGateway:
    """Serves `gateway` on host:port until `stop()` (or SIGTERM/SIGINT in `run`)."""

    def __init__(self, gateway: Gateway, *, threads: int = 16, http: Optional[Callable[[str, str], Optional[tuple]]] = None):
        self.gateway = gateway
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ckb-gateway")
        self.http = http  # (path, remote addr) → (status, content type, body): plain HTTP (health, metrics)
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.port: Optional[int] = None
        self.ready = threading.Event()
        self._stop: Optional[asyncio.Event] = None
        self._sends: set = set()
        self.gc = FrozenHeap()

    # -- lifecycle -------------------------------------------------------------------------------
    def run(self, host: str, port: int, *, handle_signals: bool = True) -> None:
        asyncio.run(self._serve(host, port, handle_signals))

    def stop(self) -> None:
        """From any thread: stop accepting, close the phones, let their sessions finish."""
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)

    async def _serve(self, host: str, port: int, handle_signals: bool) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                self.loop.add_signal_handler(sig, self._stop.set)
        # No permessage-deflate: its zlib state costs ~100 KiB a connection and frames are small JSON.
        # The transport's size cap is 4× the protocol's: a frame between the two is refused by the
        # gateway with its reason (1009), as on the flask-sock endpoint.
        server = await serve(self._session, host, port, compression=None, max_size=4 * MAX_FRAME_BYTES,
                             max_queue=4, ping_interval=None, close_timeout=5, process_request=self._http,
                             server_header=None)
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        keeper = asyncio.create_task(self.gc.run(lambda: len(self.gateway.registry)))
        try:
            await self._stop.wait()
        finally:
            keeper.cancel()
            await self._shutdown(server)

    async def _shutdown(self, server) -> None:
        server.close(close_connections=False)  # no new phones
        # Every phone's disconnect recorded at once, then closed (1000 服务器停止).
        await self._blocking(self.gateway.release_all, "服务器停止")
        try:
            await asyncio.wait_for(server.wait_closed(), STOP_SECONDS)  # sessions record their disconnect
        except asyncio.TimeoutError:
            log.warning("phones' sessions still open at shutdown")
        await self.loop.run_in_executor(self.pool, self.gateway.stop)  # delivery and the outcome writer
        self.pool.shutdown(wait=True)

    # -- plain HTTP on the same port -----------------------------------------------------------------
    def _http(self, connection: ServerConnection, request):
        path = request.path.split("?", 1)[0]
        if path == PATH:
            return None  # the WebSocket handshake goes on
        answer = self.http(path, (connection.remote_address or ("",))[0]) if self.http is not None else None
        if answer is None:
            return connection.respond(404, "Not Found\n")
        status, content_type, body = answer
        response = connection.respond(status, body)
        response.headers["Content-Type"] = content_type
        return response

    # -- one phone ---------------------------------------------------------------------------------
    async def _blocking(self, fn, *args):
        return await self.loop.run_in_executor(self.pool, fn, *args)

    async def _session(self, ws: ServerConnection) -> None:
        gw = self.gateway
        transport = LoopTransport(ws, self.loop, self._sends)
        try:
            raw = await asyncio.wait_for(ws.recv(), gw.hello_timeout)
        except asyncio.TimeoutError:
            raw = None
        except ConnectionClosed:
            return
        conn = await self._blocking(gw.accept_hello, raw, transport)
        if conn is None:
            await ws.wait_closed()  # the refusal's error frame and close code are on their way
            return
        try:
            async for raw in ws:
                frame = gw.read_frame(conn, raw)
                if frame is None:
                    break
                if frame["type"] in gw.BLOCKING_FRAMES:
                    await self._blocking(gw.handle, conn, frame)
                else:
                    gw.handle(conn, frame)
                if conn.closed:
                    break
        except ConnectionClosed:
            pass
        finally:
            self.gc.ended += 1
            await self._blocking(gw.disconnected, conn)
        await ws.wait_closed()


def raise_open_files_limit(wanted: int) -> int:
    """Every phone is an open socket: lift the soft limit on open files towards `wanted` (up to the
    hard limit); returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


M_ARENA_MAX = -8  # glibc mallopt parameter


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """glibc gives each thread that allocates its own malloc arena (up to 8 per core); the pool
    threads' database work leaves every arena fragmented, and the gateway's RSS grew by 44 KiB a
    phone at 2,000 phones instead of 18.5 KiB with two arenas (bench/devices.py). Call before the
    threads start; a no-op off glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


class FrozenHeap:
    """Keeps the garbage collector off the phones' long-lived objects.

    10,000 connections are millions of tracked objects; every full collection walked them all and
    stopped the loop for 0.4–2 s (bench/devices.py, logged by log_long_gc_pauses), which was the
    ack latency's tail. Every `every` seconds (5) what exists is frozen (gc.freeze: moved out of the
    collector's sight; new objects are collected as usual). A connection that ends leaves its
    frozen cycles behind, so once enough sessions ended (a tenth of the phones, at least 500) or
    an hour passed, one full collection runs — one pause, at a time of few reconnects — and
    everything is frozen again."""

    def __init__(self, every: float = 5.0, full_every: float = 3600.0):
        self.every = every
        self.full_every = full_every
        self.ended = 0  # sessions ended since the last full collection
        self._last_full = time.monotonic()

    async def run(self, connected: Callable[[], int]) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.step(connected())

    def step(self, connected: int) -> None:
        if self.ended >= max(500, connected // 10) or time.monotonic() - self._last_full >= self.full_every:
            gc.unfreeze()
            gc.collect()
            self.ended, self._last_full = 0, time.monotonic()
        gc.freeze()


def log_long_gc_pauses(threshold_seconds: float = 0.1) -> None:
    """Logs every garbage collection that stops the loop longer than the threshold: with 10,000
    phones a full collection walks every connection's objects, and acks wait meanwhile."""
    started: list[float] = []

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            took = time.perf_counter() - started[0]
            if took >= threshold_seconds:
                log.warning("garbage collection paused the gateway %.0f ms (generation %s, %s collected)",
                            took * 1000, info.get("generation"), info.get("collected"))

    gc.callbacks.append(watch)
