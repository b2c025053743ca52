"""The RabbitMQ transport (kombu): the production bus between the server and agents.

Wire layout, in the broker's vhost:

- ``serve(topic)`` consumes the queue named ``topic`` (``q-plugin``); several servers (API
  workers) on one topic share its messages. ``call`` publishes a request to that queue through
  the default exchange with ``reply_to`` (this transport's exclusive reply queue), a
  ``correlation_id`` and an expiration equal to its timeout (a request nobody took in time is
  dropped, not answered late); the reply comes back on the reply queue. Transport-level
  failures (a request of an unknown version, a handler that raised) travel in the reply's
  ``error`` header and become ``TransportError`` at the caller.
- ``publish(topic)`` goes to the direct exchange ``neutrino.notify`` with routing key
  ``topic`` (``host.<name>``); each ``subscribe`` binds its own exclusive auto-delete queue, so
  a subscriber gets every publication made while it is connected and nothing is left behind.

Threads: one consumer thread owns the consuming connection (declares, consumes, reconnects with
capped exponential backoff); listeners run in it and must be quick (agents only enqueue work);
handlers run in a small thread pool; publishing uses a second connection behind a lock.
After every reconnect, each listener gets one ``versions.look_again()`` notification: messages
published during the outage are lost, and an agent then resyncs fully (level-triggered).
Connection failures are logged once per kind (``broker_errors.ProblemLog``), without tracebacks.
Bodies are JSON (orjson); each carries its version ``v``, checked on receipt (``versions``).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson
from kombu import Connection, Consumer, Exchange, Producer, Queue

from neutrino.bus import versions
from neutrino.bus.broker_errors import ProblemLog, backoff, check_url, redact
from neutrino.bus.transport import Handler, Listener, TransportError

LOG = logging.getLogger(__name__)
NOTIFY_EXCHANGE = Exchange("neutrino.notify", type="direct", durable=True, auto_delete=False)
DRAIN_TICK = 0.1
"""How often the consumer thread looks up from the socket (new subscriptions, heartbeats, stop)."""


@dataclass
class _Waiter:
    done: threading.Event = field(default_factory=threading.Event)
    reply: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class _Registration:
    kind: str  # "serve" or "subscribe"
    topic: str
    callback: Callable[[dict[str, Any]], Any]
    queue: Queue


def _encode(msg: dict[str, Any]) -> bytes:
    return orjson.dumps(msg)


class AmqpTransport:
    def __init__(self, url: str, *, connect_timeout: float = 5.0, heartbeat: float = 20.0, max_backoff: float = 30.0,
                 handler_threads: int = 8, name: str = "neutrino") -> None:  # fmt: skip
        """``url``: amqp://user:password@host:port/vhost (ValueError if malformed)."""
        check_url(url)
        self.url = url
        self.connect_timeout = connect_timeout
        self.heartbeat = heartbeat
        self.max_backoff = max_backoff
        self.problems = ProblemLog(url)
        self._id = f"{name}.{uuid.uuid4().hex[:12]}"
        self._reply_queue = Queue(f"{self._id}.reply", exclusive=True, auto_delete=True, durable=False)
        self._lock = threading.Lock()
        self._registrations: dict[int, _Registration] = {}
        self._serial = itertools.count(1)
        self._dirty = threading.Event()  # registrations changed: the consumer thread applies them
        self._applied = threading.Condition()
        self._generation = 0  # bumped by the consumer thread after each applied change
        self._pending: dict[str, _Waiter] = {}
        self._connected = threading.Event()
        self._ever_connected = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._producer_lock = threading.Lock()
        self._producer: tuple[Connection, Producer] | None = None
        self._unsent: set[str] = set()  # topics whose publication failed: "look again" when back
        self._pool = ThreadPoolExecutor(max_workers=handler_threads, thread_name_prefix="bus-handler")

    # --- the Transport protocol ---------------------------------------------------------------

    def serve(self, topic: str, handler: Handler) -> None:
        self._register("serve", topic, handler, Queue(topic, durable=False, auto_delete=False))

    def subscribe(self, topic: str, listener: Listener) -> Callable[[], None]:
        serial = next(self._serial)
        queue = Queue(f"{self._id}.{topic}.{serial}", exchange=NOTIFY_EXCHANGE, routing_key=topic,
                      exclusive=True, auto_delete=True, durable=False)  # fmt: skip
        key = self._register("subscribe", topic, listener, queue, serial)

        def cancel() -> None:
            with self._lock:
                removed = self._registrations.pop(key, None) is not None
            if removed:
                self._changed()

        return cancel

    def call(self, topic: str, msg: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        self._ensure_thread()
        if not self._wait_connected(min(timeout, self.connect_timeout)):
            raise TransportError(f"call {topic}: not connected to the broker ({self._problem_text()})")
        correlation = uuid.uuid4().hex
        waiter = _Waiter()
        self._pending[correlation] = waiter
        try:
            self._publish(_encode(msg), routing_key=topic, reply_to=self._reply_queue.name,
                          correlation_id=correlation, expiration=max(timeout, 0.001))  # fmt: skip
            if not waiter.done.wait(timeout):
                raise TransportError(f"call {topic}: no reply within {timeout:g}s (no server on the topic?)")
        finally:
            self._pending.pop(correlation, None)
        if waiter.error is not None:
            raise TransportError(f"call {topic}: {waiter.error}")
        assert waiter.reply is not None
        return waiter.reply

    def publish(self, topic: str, msg: dict[str, Any]) -> None:
        """Fire and forget; when the broker is unreachable the message is dropped (logged once
        per kind of failure): subscribers resync when their own connection comes back."""
        try:
            self._publish(_encode(msg), exchange=NOTIFY_EXCHANGE, routing_key=topic)
        except TransportError:
            with self._producer_lock:
                self._unsent.add(topic)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._producer_lock:
            self._drop_producer()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._fail_pending("transport closed")

    # --- registrations ------------------------------------------------------------------------

    def _register(self, kind: str, topic: str, callback: Any, queue: Queue, serial: int | None = None) -> int:
        key = serial or next(self._serial)
        with self._lock:
            self._registrations[key] = _Registration(kind, topic, callback, queue)
        self._changed()
        return key

    def _changed(self) -> None:
        """Have the consumer thread apply the registrations; wait for it while connected, so a
        publication right after ``subscribe`` returns reaches the new subscriber."""
        self._ensure_thread()
        with self._applied:
            generation = self._generation
        self._dirty.set()
        if threading.current_thread() is self._thread:
            return
        if not self._wait_connected(self.connect_timeout):
            return  # applied when the connection comes up (and a "look again" follows)
        with self._applied:
            self._applied.wait_for(lambda: self._generation > generation or not self._connected.is_set(),
                                   timeout=self.connect_timeout)  # fmt: skip

    def _wait_connected(self, timeout: float) -> bool:
        """Connected now, or soon at start; during a known outage, False at once."""
        deadline = time.monotonic() + timeout
        while not self._connected.wait(0.02):
            if self._ever_connected or self.problems.current is not None or time.monotonic() > deadline:
                return False
        return True

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._consume_forever, name=f"bus-amqp-{self._id}", daemon=True)
                self._thread.start()

    # --- the consumer thread ------------------------------------------------------------------

    def _connection(self) -> Connection:
        conn = Connection(self.url, connect_timeout=self.connect_timeout, heartbeat=self.heartbeat)
        conn.ensure_connection(max_retries=0, reraise_as_library_errors=False)
        return conn

    def _consume_forever(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            conn = None
            try:
                conn = self._connection()
                self._consume(conn)
                attempt = 0
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect (logged once per kind)
                self._connected.clear()
                self._fail_pending("connection to the broker lost")
                delay = backoff(attempt, cap=self.max_backoff)
                attempt += 1
                self.problems.failed(exc, retry_in=delay)
                LOG.debug("bus: consumer failed", exc_info=True)
                self._stop.wait(delay)
            finally:
                if conn is not None:
                    try:
                        conn.release()
                    except Exception:  # noqa: BLE001 - closing a broken connection
                        pass

    def _consume(self, conn: Connection) -> None:
        channel = conn.channel()
        consumers: dict[int, Consumer] = {}
        replies = Consumer(channel, queues=[self._reply_queue], on_message=self._on_reply, no_ack=True)
        replies.consume()
        self._apply(channel, consumers)
        reconnected = self._ever_connected
        self._ever_connected = True
        self._connected.set()
        self.problems.recovered()
        if reconnected:
            self._resync_listeners()
        last_beat = time.monotonic()
        while not self._stop.is_set():
            if self._dirty.is_set():
                self._apply(channel, consumers)
            try:
                conn.drain_events(timeout=DRAIN_TICK)
            except TimeoutError:
                pass
            if time.monotonic() - last_beat >= 1.0:  # also when busy: the broker expects our beats
                conn.heartbeat_check()
                last_beat = time.monotonic()

    def _apply(self, channel: Any, consumers: dict[int, Consumer]) -> None:
        """Consume what is registered and nothing else."""
        self._dirty.clear()
        with self._lock:
            wanted = dict(self._registrations)
        for key in set(consumers) - set(wanted):
            consumers.pop(key).cancel()  # an auto-delete queue goes with its consumer
        for key in set(wanted) - set(consumers):
            reg = wanted[key]
            on_message = self._on_request if reg.kind == "serve" else self._on_notification
            consumer = Consumer(channel, queues=[reg.queue], no_ack=True,
                                on_message=lambda message, reg=reg, f=on_message: f(reg, message))  # fmt: skip
            consumer.consume()
            consumers[key] = consumer
        with self._applied:
            self._generation += 1
            self._applied.notify_all()

    def _resync_listeners(self) -> None:
        with self._lock:
            listeners = [r for r in self._registrations.values() if r.kind == "subscribe"]
        for reg in listeners:
            self._deliver(reg, versions.look_again())

    def _deliver(self, reg: _Registration, msg: dict[str, Any]) -> None:
        try:
            reg.callback(msg)
        except Exception:  # noqa: BLE001 - one bad listener must not stop delivery
            LOG.exception("bus: listener on %s failed", reg.topic)

    def _on_notification(self, reg: _Registration, message: Any) -> None:
        msg = self._decode(message.body, reg.topic)
        if msg is not None and versions.accept(msg, reg.topic):
            self._deliver(reg, msg)

    def _on_request(self, reg: _Registration, message: Any) -> None:
        props = message.properties
        reply_to, correlation = props.get("reply_to"), props.get("correlation_id")
        msg = self._decode(message.body, reg.topic)
        if msg is None or not versions.accept(msg, reg.topic):
            self._reply(reply_to, correlation, {}, error=f"request of version {_version(msg)!r} refused")
            return
        self._pool.submit(self._handle, reg, msg, reply_to, correlation)

    def _handle(self, reg: _Registration, msg: dict[str, Any], reply_to: str | None, correlation: str | None) -> None:
        try:
            reply = reg.callback(msg) or {}
        except Exception as exc:  # noqa: BLE001 - the caller gets the failure, the server goes on
            LOG.exception("bus: handler of %s failed", reg.topic)
            self._reply(reply_to, correlation, {}, error=f"the server failed: {type(exc).__name__}: {exc}")
            return
        self._reply(reply_to, correlation, reply)

    def _reply(self, reply_to: str | None, correlation: str | None, body: dict[str, Any], error: str | None = None) -> None:
        if not reply_to:
            return
        try:
            self._publish(_encode(body), routing_key=reply_to, correlation_id=correlation,
                          headers={"error": error} if error else None)  # fmt: skip
        except TransportError as exc:
            LOG.debug("bus: reply to %s lost: %s", reply_to, exc)

    def _on_reply(self, message: Any) -> None:
        waiter = self._pending.get(message.properties.get("correlation_id") or "")
        if waiter is None:
            return  # a reply after the caller gave up
        error = (message.headers or {}).get("error")
        if error:
            waiter.error = str(error)
        else:
            waiter.reply = self._decode(message.body, "reply")
            if waiter.reply is None:
                waiter.error = "undecodable reply"
        waiter.done.set()

    def _decode(self, body: Any, where: str) -> dict[str, Any] | None:
        try:
            msg = orjson.loads(body)
        except orjson.JSONDecodeError:
            LOG.error("bus: dropped an undecodable message on %s", where)
            return None
        return msg if isinstance(msg, dict) else None

    def _fail_pending(self, reason: str) -> None:
        for waiter in list(self._pending.values()):
            waiter.error = reason
            waiter.done.set()

    def _problem_text(self) -> str:
        return self.problems.current or f"connecting to {redact(self.url)}"

    # --- publishing ---------------------------------------------------------------------------

    def _publish(self, body: bytes, *, routing_key: str, exchange: Exchange | str = "", **props: Any) -> None:
        """Publish on the producer connection (made on first use, remade once on failure)."""
        props = {k: v for k, v in props.items() if v is not None}
        with self._producer_lock:
            for attempt in (1, 2):
                try:
                    producer = self._producer_now()
                    producer.publish(body, routing_key=routing_key, exchange=exchange, content_type="application/json",
                                     content_encoding="utf-8", retry=False, **props)  # fmt: skip
                    return
                except Exception as exc:  # noqa: BLE001 - connection or channel failure
                    self._drop_producer()
                    if attempt == 2 or isinstance(exc, TransportError):
                        text = self.problems.failed(exc)
                        raise TransportError(text) from None

    def _producer_now(self) -> Producer:
        if self._producer is not None:
            return self._producer[1]
        conn = Connection(self.url, connect_timeout=self.connect_timeout, heartbeat=0)
        try:
            conn.ensure_connection(max_retries=0, reraise_as_library_errors=False)
        except BaseException:
            conn.release()
            raise
        producer = Producer(conn.channel())
        NOTIFY_EXCHANGE(producer.channel).declare()
        self._producer = (conn, producer)
        unsent, self._unsent = self._unsent, set()
        for topic in sorted(unsent):  # publications lost while away: tell those topics to look again
            producer.publish(_encode(versions.look_again()), routing_key=topic, exchange=NOTIFY_EXCHANGE,
                             content_type="application/json", content_encoding="utf-8", retry=False)  # fmt: skip
        return producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            conn, self._producer = self._producer[0], None
            try:
                conn.release()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass


def _version(msg: Any) -> Any:
    return msg.get("v") if isinstance(msg, dict) else None
