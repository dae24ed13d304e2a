"""
PostgreSQL connections for queries that registry handlers run on the content app's event loop.

Django's ORM runs in asgiref's single worker thread per process, so concurrent requests wait
for each other's round trips there. The few queries on the hot path of pulls run here
instead, as plain SQL over a small pool of autocommit psycopg connections per process.
Each statement reads the latest committed data, like the ORM in autocommit mode.
"""

import asyncio
import logging
from contextlib import asynccontextmanager

import psycopg
from django.db import connections

log = logging.getLogger(__name__)

# Maximum connections that each content app process opens. One connection runs one query at
# a time, and with three per process `make bench` measured about 5,000 manifest GETs/s.
POOL_SIZE = 3


def _connection_params() -> dict:
    """Return psycopg connect() arguments for Django's default database."""
    settings_dict = connections["default"].settings_dict
    params = {"dbname": settings_dict["NAME"], **settings_dict.get("OPTIONS", {})}
    for django_only in ("pool", "server_side_binding", "isolation_level", "assume_role"):
        params.pop(django_only, None)
    for key in ("USER", "PASSWORD", "HOST", "PORT"):
        if settings_dict.get(key):
            params[key.lower()] = settings_dict[key]
    return params


class AsyncConnectionPool:
    """
    Up to `size` autocommit connections, opened on first use and reused.

    The queue contains idle connections and None for each slot with no open connection, so a
    request either reuses a connection, opens one in a free slot, or waits. A connection
    whose query fails or is cancelled is closed and its slot freed.
    """

    def __init__(self, size: int):
        self.size = size
        self._loop = None
        self._idle: asyncio.Queue = None

    def _bind_to_running_loop(self) -> None:
        # Connections belong to one event loop. A process with a new loop (a test run, a
        # restarted worker) starts with an empty pool.
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._idle = asyncio.Queue()
            for _ in range(self.size):
                self._idle.put_nowait(None)

    async def _take(self) -> psycopg.AsyncConnection:
        self._bind_to_running_loop()
        connection = await self._idle.get()
        if connection is not None:
            return connection
        try:
            return await psycopg.AsyncConnection.connect(autocommit=True, **_connection_params())
        except BaseException:
            self._idle.put_nowait(None)
            raise

    @asynccontextmanager
    async def connection(self):
        """Lend a connection for one or more queries."""
        connection = await self._take()
        try:
            yield connection
        except BaseException:
            self._idle.put_nowait(None)
            await _close_quietly(connection)
            raise
        self._idle.put_nowait(connection)

    async def close(self) -> None:
        """Close the idle connections, e.g. before a test drops its database."""
        if self._idle is None:
            return
        while not self._idle.empty():
            connection = self._idle.get_nowait()
            if connection is not None:
                await _close_quietly(connection)
        self._loop = None

    async def fetch_one(self, sql: str, params: tuple) -> tuple | None:
        """Run one query and return its first row, or None."""
        async with self.connection() as connection:
            cursor = await connection.execute(sql, params)
            return await cursor.fetchone()


async def _close_quietly(connection: psycopg.AsyncConnection) -> None:
    try:
        await connection.close()
    except psycopg.Error as error:
        log.debug("Closing a failed registry database connection failed: %s", error)


pool = AsyncConnectionPool(POOL_SIZE)
