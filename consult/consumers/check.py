"""The network check's echo socket: anyone may open it (no data, no session), it only answers pings."""

import time

from channels.generic.websocket import AsyncJsonWebsocketConsumer

MAX_PINGS = 20  # a check needs a handful; more is not a check


class ConnectivityCheckConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.pings = 0
        await self.accept()

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or content.get("type") != "ping":
            return
        self.pings += 1
        if self.pings > MAX_PINGS:
            await self.close(code=4429)
            return
        await self.send_json({"type": "pong", "id": content.get("id"), "server_time": time.time()})

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None
