"""The embedded task queue (django-q2 ORM broker) lives in its own SQLite file when there is one."""

from django.conf import settings

TASK_APP = "django_q"


def _task_alias():
    return "q2" if "q2" in settings.DATABASES else "default"


class TaskQueueRouter:
    def db_for_read(self, model, **hints):
        return _task_alias() if model._meta.app_label == TASK_APP else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, **hints):
        if _task_alias() == "default":
            return None
        if app_label == TASK_APP:
            return db == "q2"
        return db == "default"
