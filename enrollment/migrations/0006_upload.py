import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0005_service_definition"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Upload",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("question_id", models.CharField(max_length=40, verbose_name="domanda")),
                ("name", models.CharField(max_length=120, verbose_name="nome del file")),
                ("content_type", models.CharField(max_length=40, verbose_name="tipo")),
                ("size", models.PositiveIntegerField(verbose_name="dimensione in byte")),
                ("sha256", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "account",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "enrollment",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="uploads",
                        to="enrollment.enrollment",
                    ),
                ),
            ],
            options={"verbose_name": "allegato", "verbose_name_plural": "allegati", "ordering": ["created_at"]},
        ),
    ]
