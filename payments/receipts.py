"""Receipts (F-PAY, records): the PDF and the email that carries it. Filled in by the staff-and-emails work."""


def receipt_send_on_commit(payment):
    """After the surrounding transaction commits, email `payment`'s receipt (PDF attached) to the client, once."""
