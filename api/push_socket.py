"""The websocket protocol `jotr serve` runs: uvicorn's, with compression that an
idle connection does not pay for.

permessage-deflate keeps, by default, a zlib compressor and decompressor per
connection for as long as it is open ("context takeover": each message may refer
back to the ones before). uvicorn's websockets implementation asks for 4 KiB
windows at memLevel 5: ~50 KiB of zlib state per connection, most of what a
connected idle phone cost beyond its session (bench/idle_phones.py).

Without context takeover each message is compressed on its own: the compressor
and decompressor live only while a message is encoded or decoded, so an idle
connection holds none (websockets frees them after each message). Measured on
real match frames from the bench database (~1.25 kB of JSON each, a phone's
hello, `resumed` and its first matches; 40 phones, 218 frames):

    setting (server/client window bits, memLevel)   bytes on the wire   zlib per idle conn
    none (compression declined)                      100 %               0
    context takeover, 12/12, memLevel 5 (uvicorn)    28 %                ~50 KiB
    context takeover, 15/15, memLevel 8 (zlib's)     27 %                ~135 KiB
    context takeover, 11/11, memLevel 4              37 %                ~32 KiB
    context takeover, 10/10, memLevel 3              48 %                ~23 KiB
    context takeover, 9/9, memLevel 1                61 %                ~17 KiB
    no context takeover (either side), any window    46 %                ~0.3 KiB

Small windows lose the saving faster than they save memory; dropping the
context keeps most of it (54 % fewer bytes instead of 72 %) for nothing per idle
connection, and costs one zlib setup per message (a few microseconds). So that
is the default; `JOTR_PUSH_DEFLATE_CONTEXT=true` gives uvicorn's own setting
back, `JOTR_PUSH_DEFLATE=false` declines compression altogether. The server may
ask for no context takeover in its answer even where the client did not offer it
(RFC 7692, 7.1.1), and every conforming client accepts it.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

from matcher.settings import Settings, get_settings

PROTOCOL = "api.push_socket:PushSocketProtocol"
# The window and memLevel within a message, as uvicorn sets them: a match frame
# (~1-3 kB) fits in a 4 KiB window, and the state is freed after the message.
WINDOW_BITS = 12
MEM_LEVEL = 5


def deflate_factory(settings: Settings) -> ServerPerMessageDeflateFactory:
    """permessage-deflate as configured (see the module docstring)."""
    fresh = not settings.push_deflate_context
    return ServerPerMessageDeflateFactory(
        server_no_context_takeover=fresh,
        client_no_context_takeover=fresh,
        server_max_window_bits=WINDOW_BITS,
        client_max_window_bits=WINDOW_BITS,
        compress_settings={"memLevel": MEM_LEVEL},
    )


class PushSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O websockets protocol with our permessage-deflate."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.config.ws_per_message_deflate:
            # uvicorn builds its own factory in __init__; the handshake reads this list.
            self.conn.available_extensions = [deflate_factory(get_settings())]
