#!/usr/bin/env python3
"""Runs the OASIS reference TAXII 2.1 server, medallion 3.0.0 (memory backend),
on a port the OS picks, for the interoperability check and the benchmark.

Usage: medallion_server.py [--config scripts/interop/medallion-config.json] [--host 127.0.0.1]

Prints one line, `listening on http://HOST:PORT`, once the socket accepts
connections, then serves until killed. The credentials and collections are in the
config (user `interop`, password `interop-password`; API root `api1`).

Why not `medallion CONFIG`: its discovery resource must name the API root by its
full URL, which needs the port before the server starts; binding the socket
here first gives both without a race.
"""

import argparse
import copy
import json
import logging
import os
import socket
import sys
import tempfile
from pathlib import Path

from werkzeug.serving import make_server

import medallion
from medallion import application_instance, register_blueprints, set_config

HERE = Path(__file__).resolve().parent


def substitute(value, base):
    """`value` with every "{BASE}" in its strings replaced by `base`."""
    if isinstance(value, str):
        return value.replace("{BASE}", base)
    if isinstance(value, list):
        return [substitute(v, base) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, base) for k, v in value.items()}
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(HERE / "medallion-config.json"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()

    logging.getLogger("medallion").setLevel(args.log_level)
    # werkzeug logs every request on stderr: far too much for thousands of pages.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, 0))
    sock.listen(128)
    host, port = sock.getsockname()[:2]
    base = "http://{}:{}".format(host, port)

    with open(args.config, encoding="utf-8") as f:
        config = json.load(f)
    data = substitute(config.pop("data"), base)
    data_file = tempfile.NamedTemporaryFile("w", suffix=".json", prefix="medallion-data-", delete=False)
    with data_file:
        json.dump(data, data_file)
    backend = copy.deepcopy(config["backend"])
    backend["filename"] = data_file.name
    config["backend"] = backend

    set_config(application_instance, "users", config)
    set_config(application_instance, "taxii", config)
    set_config(application_instance, "backend", config)
    os.unlink(data_file.name)  # loaded into memory; nothing reads it again
    register_blueprints(application_instance)

    server = make_server(host, port, application_instance, threaded=True, fd=sock.fileno())
    print("listening on {} (medallion {})".format(base, medallion.__version__), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
