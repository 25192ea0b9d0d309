"""The Redis channel layer's blocking pop ends before the client's read would time out (config/channel_layer.py)."""

from redis._defaults import DEFAULT_SOCKET_TIMEOUT

from config.channel_layer import RedisChannelLayer
from tests.test_settings_env import _settings_value


def test_the_blocking_pop_returns_well_inside_the_socket_timeout():
    assert RedisChannelLayer.brpop_timeout <= DEFAULT_SOCKET_TIMEOUT - 2


def test_a_redis_deployment_uses_it():
    backend = _settings_value({"REDIS_URL": "redis://127.0.0.1:6379/0"},
                              "settings.CHANNEL_LAYERS['default']['BACKEND']")
    assert backend == "config.channel_layer.RedisChannelLayer"
