from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from portal.crypto import encrypted_fields

BATCH = 500


class Command(BaseCommand):
    help = (
        "Re-encrypt every secret at rest with the first key of FIELD_ENCRYPTION_KEYS. Run it "
        "after putting a new key first; then the old key can be removed."
    )

    def handle(self, *args, **options):
        total = 0
        for model, names in encrypted_fields():
            queryset = model._base_manager.order_by("pk")
            count = queryset.count()
            with tqdm(total=count, desc=model._meta.label, unit="row", disable=None) as bar:
                last_pk = None
                while True:
                    page = queryset if last_pk is None else queryset.filter(pk__gt=last_pk)
                    rows = list(page.only("pk", *names)[:BATCH])
                    if not rows:
                        break
                    # Reading decrypts with any listed key; saving encrypts with the first.
                    with transaction.atomic():
                        model._base_manager.bulk_update(rows, names)
                    last_pk = rows[-1].pk
                    bar.update(len(rows))
            total += count
        self.stdout.write(f"Re-encrypted {total} row(s).")
