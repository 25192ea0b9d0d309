from django.db import migrations


def remove_default_site(apps, schema_editor):
    """Wagtail's starter site would answer for unknown hosts; every site here belongs to an organisation."""
    Site = apps.get_model("wagtailcore", "Site")
    Page = apps.get_model("wagtailcore", "Page")
    Site.objects.filter(organization__isnull=True).delete()
    # The starter "Welcome to your new Wagtail site!" page (a plain Page at depth 2), if untouched.
    starter = Page.objects.filter(depth=2, content_type__model="page", content_type__app_label="wagtailcore")
    for page in starter:
        if not Page.objects.filter(path__startswith=page.path, depth__gt=2).exists():
            page.delete()
    root = Page.objects.filter(depth=1).first()
    if root is not None:
        root.numchild = Page.objects.filter(depth=2).count()
        root.save(update_fields=["numchild"])


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0002_initial"),
        ("orgs", "0001_initial"),
        ("wagtailcore", "0002_initial_data"),
    ]
    run_before = []

    operations = [migrations.RunPython(remove_default_site, migrations.RunPython.noop)]
