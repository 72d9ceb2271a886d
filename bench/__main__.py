"""`python -m bench`: every benchmark in turn, its figures as it finishes, then one table."""

import os
import time

from bench import (
    article_page,
    booking_post,
    calendar_sync,
    owner_leads,
    print_figures,
    slots,
    table,
)

BENCHMARKS = (article_page, slots, calendar_sync, booking_post, owner_leads)


def main() -> None:
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    figures = []
    for benchmark in BENCHMARKS:
        print(f"\n== {benchmark.NAME}")
        started = time.perf_counter()
        found = benchmark.run()
        print_figures(found)
        print(f"  ({time.perf_counter() - started:.1f} s)")
        figures += found
    print(f"\nload average {os.getloadavg()[0]:.2f} at end\n")
    print(table(figures))


if __name__ == "__main__":
    main()
