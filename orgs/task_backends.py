"""Wagtail's own background tasks (search index, reference index) are housekeeping for every
organisation at once; they run outside any request and so outside any organisation scope."""

from django_tasks.backends.immediate import ImmediateBackend

from .scoping import scopes_disabled


class UnscopedImmediateBackend(ImmediateBackend):
    def _execute_task(self, task_result):
        with scopes_disabled():
            return super()._execute_task(task_result)
