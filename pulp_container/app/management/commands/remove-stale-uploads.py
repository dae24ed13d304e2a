"""`pulpcore-manager remove-stale-uploads`: remove abandoned blob upload sessions."""

from django.core.management import BaseCommand, CommandError

from pulp_container.app.registry.upload_cleanup import remove_stale_uploads


class Command(BaseCommand):
    """Remove blob upload sessions that received no data for some hours, with their files."""

    help = (
        "Remove registry blob upload sessions that received no data for --hours hours "
        "(default: the UPLOAD_SESSION_TIMEOUT setting), and delete their partial files."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours",
            type=float,
            default=None,
            help="Age in hours since the last received chunk; default UPLOAD_SESSION_TIMEOUT.",
        )

    def handle(self, *args, **options):
        hours = options["hours"]
        if hours is not None and hours < 0:
            raise CommandError(f"--hours must be 0 or more, got {hours}")
        removed = remove_stale_uploads(hours)
        self.stdout.write(f"Removed {removed} stale upload sessions.")
