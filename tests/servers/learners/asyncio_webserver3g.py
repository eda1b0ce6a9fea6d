"""A learner's server as one process with an asyncio event loop: every connection in that process."""
import asyncio

PORT = 8888


async def handle(reader, writer):
    try:
        await reader.read(1024)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nHello, World!\n")
        await writer.drain()
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "", PORT, backlog=1024)
    print('Serving HTTP on port {port} ...'.format(port=PORT), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == '__main__':
    asyncio.run(main())
