"""Storage for files nobody may fetch by URL (files shared in a consult): served only through views that
check who asks. It lives outside MEDIA_ROOT, so the web server never serves it directly."""

from django.core.files.storage import storages


def storages_private():
    return storages["private"]
