"""The Redis channel layer, with a blocking pop that ends well before redis-py's read timeout.

redis-py 8 gives every read a 5 s socket timeout (redis._defaults.DEFAULT_SOCKET_TIMEOUT), and channels_redis
blocks its pop for 5 s too: on a busy event loop the client's read timed out before the server's empty answer
arrived ("Timeout reading from 127.0.0.1:6379" in bench/load.py, a waiting-room socket dropped). A pop of 2 s
leaves 3 s of margin, at the cost of one empty round trip per worker process every 2 s when nothing arrives.
(Raising the socket timeout instead, tried in #4, left cancelled receives hanging after a socket closed.)
"""

from channels_redis.core import RedisChannelLayer as ChannelsRedisLayer


class RedisChannelLayer(ChannelsRedisLayer):
    brpop_timeout = 2
