from django.urls import path

from .views import client, webhooks

app_name = "payments"
urlpatterns = [
    # The client pays for the appointment whose link this browser opened (session participant).
    path("", client.pay, name="pay"),
    path("start/", client.start, name="start"),
    path("return/<uuid:reference>/", client.returned, name="return"),
    path("cancelled/<uuid:reference>/", client.cancelled, name="cancelled"),
    path("status/<uuid:reference>/", client.status, name="status"),
    # The providers' webhooks, per organisation host (the host decides whose secret verifies them).
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("webhooks/paypal/", webhooks.paypal_webhook, name="paypal_webhook"),
]
