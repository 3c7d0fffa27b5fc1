"""A TCP proxy with a stall and a delay control, for link faults (tests/chaos).

One listening port forwards to one upstream address. ``stall()`` stops forwarding in both
directions while keeping every connection open (a black-holed link: requests and replies wait
in the proxy); ``resume()`` forwards what waited. ``delay_ms`` holds each chunk that long (a
slow link). ``reset()`` closes every connection (a cut link the peers notice).
"""
import asyncio
import threading


class Proxy:
    def __init__(self, upstream_host, upstream_port):
        self.upstream = (upstream_host, upstream_port)
        self.delay_ms = 0
        self.loop = asyncio.new_event_loop()
        self.open = asyncio.Event()
        self.writers = set()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait()

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        self.open.set()
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _accept(self, reader, writer):
        await self.open.wait()  # a stalled link delivers no connection either
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        for w in (writer, up_writer):
            self.writers.discard(w)

    async def _pump(self, reader, writer):
        """Copies reader to writer; a stall holds data and the end of the stream alike."""
        try:
            while data := await reader.read(65536):
                await self.open.wait()
                if self.delay_ms:
                    await asyncio.sleep(self.delay_ms / 1000)
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        await self.open.wait()
        writer.close()

    def _call(self, fn):
        done = threading.Event()
        self.loop.call_soon_threadsafe(lambda: (fn(), done.set()))
        done.wait()

    def stall(self):
        self._call(self.open.clear)

    def resume(self):
        self._call(self.open.set)

    def reset(self):
        self._call(lambda: [w.transport.abort() for w in list(self.writers)])

    def close(self):
        self._call(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
