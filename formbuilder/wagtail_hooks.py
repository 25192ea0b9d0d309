"""Questionnaires in the organisation admin: the editor and the access log of answers."""

from wagtail import hooks

from .views.admin import AccessLogViewSet, QuestionnaireViewSet


@hooks.register("register_admin_viewset")
def register_questionnaire_viewset():
    return QuestionnaireViewSet()


@hooks.register("register_admin_viewset")
def register_access_log_viewset():
    return AccessLogViewSet()
