"""The embedded DynamoDB: moto's server mode on loopback, with atomic transactions and without
per-request access logs (``python -m devstack.dynamodb --port 8002``)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from moto.server import ThreadedMotoServer

from devstack.transactions import make_atomic


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.dynamodb", description="moto server on loopback, quietly"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    args = parser.parse_args(argv)

    # werkzeug logs every request at INFO (a few lines a second with the poller running);
    # its errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    make_atomic()  # DynamoDB's transactions are atomic; moto's are not, under concurrency
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    print(f"moto server listening on http://{args.host}:{args.port}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.stop()


if __name__ == "__main__":
    main()
