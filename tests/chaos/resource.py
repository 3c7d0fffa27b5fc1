"""The fenced resource of the chaos suite: a TCP server that keeps the highest token it has
accepted and rejects a lower one.

Protocol, one line each way: ``write <label> <token>`` -> ``ok`` (token >= highest; it becomes
the highest) or ``stale``. Every decision is logged, in decision order, as a history record
``{"kind": "accept", "proc", "token", "result", "t"}`` (tests/chaos/checker.py).
"""
import socketserver
import threading
import time


class Resource:
    def __init__(self, host="127.0.0.1"):
        self.highest = 0
        self.log = []
        self.lock = threading.Lock()
        resource = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                try:
                    for line in self.rfile:
                        self.wfile.write(resource.answer(line.decode()).encode() + b"\n")
                except ConnectionResetError:
                    pass  # a killed writer

        self.server = socketserver.ThreadingTCPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.address = "%s:%d" % (host, self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, line):
        words = line.split()
        if len(words) != 3 or words[0] != "write" or not words[2].isdigit():
            return "err expected `write <label> <token>`"
        return self.write(words[1], int(words[2]))

    def write(self, label, token):
        with self.lock:
            result = "ok" if token >= self.highest else "stale"
            self.highest = max(self.highest, token)
            self.log.append({"kind": "accept", "proc": label, "token": token, "result": result,
                             "t": time.monotonic_ns()})
            return result

    def close(self):
        self.server.shutdown()
        self.server.server_close()
