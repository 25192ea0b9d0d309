"""Settings read from the environment as an operator writes them."""

import os
import subprocess
import sys

from django.conf import settings


def _settings_value(env_extra, expression, module="config.settings.dev"):
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update({"DJANGO_SETTINGS_MODULE": module, **env_extra})
    check = f"import django; from django.conf import settings; django.setup(); print({expression})"
    result = subprocess.run([sys.executable, "-c", check], env=env, cwd=settings.BASE_DIR, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_a_filemail_url_keeps_its_absolute_folder(tmp_path):
    # django-environ alone turns filemail:///srv/mail into the relative "srv/mail".
    folder = tmp_path / "mail"
    assert _settings_value({"EMAIL_URL": f"filemail://{folder}"}, "settings.EMAIL_FILE_PATH") == str(folder)


def test_production_pools_postgresql_connections():
    pooled = _settings_value(
        {"SECRET_KEY": "x" * 50, "QUESTIONNAIRE_KEYS": "k1:" + "A" * 44, "EMAIL_URL": "smtp://localhost:25",
         "DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "REDIS_URL": "redis://127.0.0.1:6379/0"},
        "settings.DATABASES['default']['OPTIONS'].get('pool'), settings.DATABASES['default']['CONN_MAX_AGE']",
        module="config.settings.production",
    )
    assert pooled == "{'min_size': 2, 'max_size': 16, 'timeout': 10} 0"
