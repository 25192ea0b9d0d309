"""django-q2 entry points: thin, idempotent, they only call the services."""

from . import services


def refund_attempt(refund_pk):
    """Ask the provider for one refund (queued when a duplicate or late payment must be given back)."""
    return services.refund_attempt(refund_pk=refund_pk).status


def refund_for_cancelled_appointment(appointment_id):
    """Queued on commit by consult.services.appointment_cancel."""
    refund = services.refund_for_cancelled_appointment(appointment_id)
    return refund.status if refund is not None else None


def retry_failed_refunds():
    """Scheduled: refunds the provider refused or could not take earlier, and those still pending after a while
    (its idempotency key: never twice)."""
    return services.refund_retry()


def expire_stale_checkouts():
    """Scheduled (every 15 minutes): open attempts whose checkout can no longer be open end as EXPIRED."""
    return services.expire_stale_checkouts()


def retry_stuck_receipts():
    """Scheduled: receipts whose email failed or whose worker died while sending go out again (never twice)."""
    from .receipts import retry_stuck_receipts as retry

    return retry()
