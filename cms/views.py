from django.conf import settings
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_supported_language_variant
from django.utils.translation.trans_real import parse_accept_lang_header

from . import selectors


def home(request):
    """`/`: a redirect to the organisation's web page in the visitor's language, or the platform's front page."""
    if request.organization is None:
        return render(request, "platform_home.html")
    home_page = request.organization.root_page.specific
    languages = selectors.published_languages(home_page)
    if not languages:  # a dead end with a way out: who to contact, and where staff sign in
        return render(request, "cms/no_web_page.html", status=404)
    response = redirect(f"/{preferred_language(request, languages, home_page)}/")
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def preferred_language(request, available, home_page):
    """The visitor's choice (language cookie, then the browser's languages in order of preference) when
    the site has it, else the organisation's default language, else the page set's original language."""
    wishes = [request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")]
    wishes += [code for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", ""))]
    for wish in wishes:
        try:
            code = get_supported_language_variant(wish)
        except LookupError:
            continue
        if code in available:
            return code
    if request.organization.default_language in available:
        return request.organization.default_language
    original = home_page.published_set.locale.language_code if home_page.published_set else None
    return original if original in available else available[0]
