"""The bench's arithmetic: reading wrk's report, medians over rounds, ratios, and the
interleaving of rounds. A wrong parser would make every figure of `make bench` wrong."""

import math

import pytest

from bench import Figure, interleaved, median, ratio
from bench.wrk import duration_ms, lua_string, parse

# What Debian's wrk 4.1.0 prints for `wrk -t1 -c16 -d5s --latency URL`, with the lines
# it adds when some answers fail and some sockets break.
REPORT = """\
Running 5s test @ http://127.0.0.1:41235/library/ai-systems-architect-vs-ai-engineer
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    16.52ms    9.87ms 132.04ms   87.21%
    Req/Sec     0.98k   102.33     1.17k    72.00%
  Latency Distribution
     50%   14.21ms
     75%  812.00us
     90%    1.20s
     99%    2.00m
  4883 requests in 5.01s, 97.71MB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 17
Requests/sec:    974.63
Transfer/sec:     19.50MB
"""


def test_requests_per_second_total_and_every_percentile_are_read_in_milliseconds():
    result = parse(REPORT)
    assert result.requests_per_second == 974.63
    assert result.requests == 4883
    assert result.latency_ms == {50.0: 14.21, 75.0: 0.812, 90.0: 1200.0, 99.0: 120_000.0}
    assert result.p99_ms == 120_000.0


def test_failed_answers_and_socket_errors_are_counted_not_ignored():
    result = parse(REPORT)
    assert result.bad_status == 17
    assert result.socket_errors == 10


def test_a_clean_run_has_no_failures_and_the_averages_table_is_not_taken_for_percentiles():
    clean = "\n".join(
        line
        for line in REPORT.splitlines()
        if "Socket errors" not in line and "Non-2xx" not in line
    )
    result = parse(clean)
    assert (result.bad_status, result.socket_errors) == (0, 0)
    assert set(result.latency_ms) == {50.0, 75.0, 90.0, 99.0}


def test_a_report_without_its_request_count_is_refused_rather_than_read_as_zero():
    with pytest.raises(ValueError, match="no request count"):
        parse("unable to connect to 127.0.0.1:1 Connection refused\n")


@pytest.mark.parametrize(
    ("text", "ms"), [("812.00us", 0.812), ("1.23ms", 1.23), ("2.50s", 2500.0), ("1.00m", 60_000.0)]
)
def test_each_unit_wrk_uses_for_latency(text, ms):
    assert duration_ms(text) == pytest.approx(ms)


def test_an_unknown_latency_unit_is_an_error():
    with pytest.raises(ValueError):
        duration_ms("3.0ns")


def test_median_of_rounds_ignores_rounds_that_measured_nothing():
    assert median([300.0, 100.0, 200.0]) == 200.0
    assert median([100.0, 200.0]) == 150.0
    assert median([100.0, float("nan"), 300.0]) == 200.0
    assert math.isnan(median([]))


def test_ratio_is_subject_over_reference_and_unknown_when_the_reference_is_zero():
    assert ratio(968.0, 3474.0) == pytest.approx(0.2786, abs=1e-4)
    assert math.isnan(ratio(5.0, 0.0))
    assert math.isnan(ratio(float("nan"), 5.0))


def test_a_figure_prints_its_reference_and_the_ratio_beside_its_value():
    figure = Figure("served", "article page 200", 968.0, "req/s", "hello-world GET", 3474.0)
    assert figure.shown() == "968 req/s"
    assert figure.compared() == "vs hello-world GET 3,474 req/s: 0.279x"
    assert Figure("slots", "30 days", 4.2, "ms").compared() == ""


def test_rounds_alternate_their_order_and_keep_each_contenders_results_apart():
    calls = []

    def contender(name):
        def measure(number):
            calls.append((number, name))
            return f"{name}{number}"

        return measure

    results = interleaved(3, [("ref", contender("ref")), ("subject", contender("subject"))])
    assert calls == [
        (0, "ref"), (0, "subject"), (1, "subject"), (1, "ref"), (2, "ref"), (2, "subject")
    ]  # fmt: skip
    assert results == {
        "ref": ["ref0", "ref1", "ref2"],
        "subject": ["subject0", "subject1", "subject2"],
    }


def test_lua_strings_carry_any_form_body_verbatim():
    assert lua_string("a=1&b=%41{n}") == "[===[a=1&b=%41{n}]===]"
    with pytest.raises(ValueError):
        lua_string("]===]")
