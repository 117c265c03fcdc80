"""How WebSocket messages are read: decoded by web/json_cost.py (cost checked first, big ones
parsed off the loop), with the size of the last one kept for the handlers' own limits (a
connection_init payload over MAX_INIT_BYTES is refused)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from json import JSONDecodeError

from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived

from tradegraph.web.json_cost import JSONTooCostly, decode_off_loop

MAX_INIT_BYTES = 64 * 1024  # a token is under 1 KiB; nothing else needs keeping
INIT_TOO_LARGE = (
    f"connection_init payload over {MAX_INIT_BYTES // 1024} KiB: send only "
    '{"Authorization": "Bearer <accessToken>"}'
)


class MeasuredWebSocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's adapter, decoding with json_cost; `refusal` says why a message was not
    JSON the server takes (the handlers close 4400 with it as the reason). A message that
    is not JSON ends the socket on both protocols, `ignore_parsing_errors` notwithstanding."""

    last_message_chars = 0
    refusal: str | None = None

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                self.last_message_chars = len(text)
                try:
                    value = await decode_off_loop(text)
                except JSONTooCostly as error:
                    self.refusal = error.msg
                    raise NonJsonMessageReceived from error
                except JSONDecodeError as error:
                    # Both protocols close 4400 (legacy graphql-ws would skip it silently).
                    raise NonJsonMessageReceived from error
                yield value
        except KeyError as error:  # a binary frame
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            pass
