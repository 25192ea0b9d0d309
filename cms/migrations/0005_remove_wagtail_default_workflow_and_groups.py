from django.db import migrations


def remove_defaults(apps, schema_editor):
    """Wagtail's starter "Moderators approval" workflow on the tree root and its "Moderators"/"Editors" groups
    would apply to every organisation's pages and email their titles to platform staff. Organisations
    publish their own pages; their groups are made by org_create."""
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    Group = apps.get_model("auth", "Group")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    starter = Workflow.objects.filter(name="Moderators approval")
    WorkflowPage.objects.filter(workflow__in=starter).delete()
    starter.update(active=False)
    groups = Group.objects.filter(name__in=["Moderators", "Editors"])
    GroupPagePermission.objects.filter(group__in=groups).delete()
    groups.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0004_media_organization"),
        ("wagtailcore", "0083_workflowcontenttype"),
    ]

    operations = [migrations.RunPython(remove_defaults, migrations.RunPython.noop)]
