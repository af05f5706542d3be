"""https_stream: on port 8080, /ws echoes websocket text frames and /events streams two server-sent events,
the second once the job's property `next` is `yes` (so a test knows the first came while the app held)."""

import base64
import hashlib
import http.server
import os
import struct
import time

import dxpy

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/ws":
            self.websocket()
        elif self.path == "/events":
            self.events()
        else:
            self.send_error(404)

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def events(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.chunk(b"data: first\n\n")
        job = dxpy.DXJob(os.environ["DX_JOB_ID"])
        while job.describe(fields={"properties": True})["properties"].get("next") != "yes":
            time.sleep(0.3)
        self.chunk(b"data: second\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def frame(self, opcode, data):
        size = len(data)
        if size < 126:
            head = struct.pack("!BB", 0x80 | opcode, size)
        elif size < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 126, size)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
        self.wfile.write(head + data)
        self.wfile.flush()

    def websocket(self):
        key = self.headers["Sec-WebSocket-Key"]
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        while True:
            head = self.rfile.read(2)
            if len(head) < 2:
                return
            opcode, size = head[0] & 0x0F, head[1] & 0x7F
            if size == 126:
                size = struct.unpack("!H", self.rfile.read(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self.rfile.read(8))[0]
            mask = self.rfile.read(4)
            data = bytes(byte ^ mask[index % 4] for index, byte in enumerate(self.rfile.read(size)))
            if opcode == 8:
                self.frame(8, data[:2])
                return
            if opcode == 1:
                self.frame(1, b"echo: " + data)


@dxpy.entry_point("main")
def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 8080), Handler)
    print("listening on port 8080")
    server.serve_forever()


dxpy.run()
