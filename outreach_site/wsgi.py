import ctypes
import os

from django.core.wsgi import get_wsgi_application

# glibc's mallopt(M_ARENA_MAX, n): at most n malloc arenas in this process.
M_ARENA_MAX = -8


def one_malloc_arena() -> None:
    """glibc gives each thread that allocates at once with another its own malloc arena (up to
    8 per core), and each arena keeps what its thread's largest pages needed: with gunicorn's 4
    threads a worker's peak memory was ~7 MiB higher than with one arena (bench/memory_bench.py).
    The threads mostly take turns under the GIL anyway. Made before they start; MALLOC_ARENA_MAX
    in the environment wins; nothing is done where the C library is not glibc."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, 1)
    except (OSError, AttributeError):
        pass


one_malloc_arena()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach_site.settings")

application = get_wsgi_application()
