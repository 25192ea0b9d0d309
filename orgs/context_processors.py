from django.conf import settings


def organization(request):
    return {
        "organization": getattr(request, "organization", None),
        "membership": getattr(request, "membership", None),
        "platform_name": settings.PLATFORM_NAME,
        "csp_nonce": getattr(request, "csp_nonce", ""),
        # Platform staff acting as the employee (orgs/remote_support.py): hide password and two-factor parts.
        "remote_support": getattr(request, "remote_support", None),
    }
