#!/usr/bin/python3
"""delayproxy.py LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS

A TCP relay for scripts/bench-remote where the kernel has no netem qdisc:
every chunk read from either side is written to the other DELAY_MS / 2
later, so a request and its answer take DELAY_MS more (the round trip of
the link grows by DELAY_MS).  Order is kept per direction; at most QUEUE
chunks wait in each direction (then the reader waits: back-pressure, the
proxy's window).  A new connection's first bytes wait one round trip
more (the handshake, which the relay's own listener answered at once).
It does not model loss or a TCP window over the delay:
its own connections run at the speed of the link.  Prints "ready" on
standard output once listening; runs until killed.
"""
import asyncio
import sys
import time

CHUNK = 256 << 10
QUEUE = 256


async def pump(reader, writer, half):
    q = asyncio.Queue(QUEUE)

    async def feed():
        while True:
            data = await reader.read(CHUNK)
            await q.put((time.monotonic() + half, data))
            if not data:
                return

    async def drain():
        while True:
            due, data = await q.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    try:
        await asyncio.gather(feed(), drain())
    except (ConnectionError, OSError):
        pass


async def serve(lhost, lport, thost, tport, half):
    async def handle(cr, cw):
        # The TCP handshake the relay answered at once: one round trip.
        await asyncio.sleep(2 * half)
        try:
            sr, sw = await asyncio.open_connection(thost, tport)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pump(cr, sw, half), pump(sr, cw, half))
        for w in (cw, sw):
            w.close()

    server = await asyncio.start_server(handle, lhost, lport)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__.split("\n")[0])
    lhost, lport, thost, tport, ms = sys.argv[1:]
    asyncio.run(serve(lhost, int(lport), thost, int(tport), float(ms) / 2e3))


if __name__ == "__main__":
    main()
