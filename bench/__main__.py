"""`python -m bench`: every benchmark in turn, its figures as it finishes, then one table."""

import os
import time

from bench import (
    book_picker,
    booking_post,
    calendar_sync,
    owner_leads,
    print_figures,
    served_pages,
    slots,
    table,
)

# Served figures first: they compare against references, and want the quietest machine.
BENCHMARKS = (served_pages, book_picker, booking_post, slots, calendar_sync, owner_leads)


def main() -> None:
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    figures = []
    began = time.perf_counter()
    for benchmark in BENCHMARKS:
        print(f"\n== {benchmark.NAME}")
        started = time.perf_counter()
        found = benchmark.run()
        print_figures(found)
        print(f"  ({time.perf_counter() - started:.1f} s)")
        figures += found
    print(f"\nload average {os.getloadavg()[0]:.2f} at end, "
          f"{time.perf_counter() - began:.0f} s in all\n")  # fmt: skip
    print(table(figures))


if __name__ == "__main__":
    main()
