from django.shortcuts import render
from wagtail.views import serve


def home(request):
    """`/`: the organisation's published web page, or the platform's own front page."""
    if request.organization is None:
        return render(request, "platform_home.html")
    return serve(request, "")
