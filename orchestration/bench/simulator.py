"""`python -m simulator bench`: ready-to-send records per second, against a naive Faker loop.

Both sides count the same thing: records turned into JSON bytes, one per message. The
baseline is the original design's generator, one Faker call per field per record, measured in
the same run on the same machine, so the ratio means something on a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from faker import Faker

from lakestream.core.argtypes import positive
from lakestream.core.console import figures_table
from lakestream.core.datasets import default_catalog
from lakestream.core.options import add_datasets_option, add_json_option
from orchestration.bench.report import Figure, machine, show
from simulator.simulation import SimulationConfig, Simulator


def _naive_transactions(fake: Faker) -> dict:
    return {
        "ClientID": fake.uuid4(),
        "ClientName": fake.name(),
        "TransactionDate": fake.date_this_year().isoformat(),
        "Product": random.choice(["WidgetX", "GadgetY", "ToolZ"]),
        "Amount": round(random.uniform(10, 500), 2),
        "PaymentMethod": random.choice(["Credit Card", "PayPal", "Bank Transfer"]),
    }


def _naive_web_logs(fake: Faker) -> dict:
    return {
        "IP_Address": fake.ipv4(),
        "URL": fake.uri_path(),
        "Status_Code": random.choice([200, 301, 404, 500]),
        "Timestamp": fake.date_time_this_year().strftime("%Y-%m-%d %H:%M:%S"),
    }


def _naive_social_posts(fake: Faker) -> dict:
    return {
        "user": fake.user_name(),
        "message": fake.sentence() + " #" + fake.word(),
        "post_date": fake.date_this_year().isoformat(),
        "likes": random.randint(0, 1000),
        "retweets": random.randint(0, 500),
    }


def _naive_ad_campaigns(fake: Faker) -> dict:
    start = fake.date_this_year()
    impressions = random.randint(1000, 100_000)
    clicks = random.randint(0, impressions // 10)
    return {
        "campaign_id": fake.md5(),
        "start_date": start.isoformat(),
        "end_date": fake.date_between(start_date=start, end_date="+90d").isoformat(),
        "budget": round(random.uniform(500, 50_000), 2),
        "clicks": clicks,
        "impressions": impressions,
        "ctr": clicks / impressions,
    }


NAIVE: dict[str, Callable[[Faker], dict]] = {
    "transactions": _naive_transactions,
    "web_logs": _naive_web_logs,
    "social_posts": _naive_social_posts,
    "ad_campaigns": _naive_ad_campaigns,
}


@dataclass(frozen=True)
class BenchResult:
    dataset: str
    naive_per_s: float
    simulator_per_s: float

    @property
    def ratio(self) -> float:
        return self.simulator_per_s / self.naive_per_s


def _rate(step: Callable[[], int], seconds: float) -> float:
    """Records per second of `step` (which returns how many it made), over about `seconds`."""
    step()  # warm-up: first-call costs (imports, caches) are not throughput
    made, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        made += step()
    return made / elapsed


def naive_rate(dataset: str, seconds: float, seed: int = 0) -> float:
    fake = Faker()
    Faker.seed(seed)
    random.seed(seed)
    make = NAIVE[dataset]

    def step() -> int:
        for _ in range(100):
            json.dumps(make(fake)).encode()
        return 100

    return _rate(step, seconds)


def simulator_rate(dataset: str, seconds: float, batch_size: int = 10_000, seed: int = 0) -> float:
    sim = Simulator(SimulationConfig(seed=seed))

    def step() -> int:
        return len(sim.messages(dataset, batch_size))

    return _rate(step, seconds)


def run(datasets: list[str], seconds: float = 2.0, batch_size: int = 10_000) -> list[BenchResult]:
    return [
        BenchResult(ds, naive_rate(ds, seconds), simulator_rate(ds, seconds, batch_size))
        for ds in datasets
    ]


def report(results: list[BenchResult]) -> dict:
    return {
        "benchmark": "simulator",
        "unit": "ready-to-send records per second (one process, one thread)",
        "machine": machine(),
        "results": [{**asdict(r), "ratio": round(r.ratio, 1)} for r in results],
    }


def section(quick: bool) -> list[Figure]:
    """`make bench`'s simulator figures."""
    names = [ds.name for ds in default_catalog()]
    return [
        Figure(
            "simulator",
            f"{r.dataset} records/s",
            r.simulator_per_s,
            "rec/s",
            r.naive_per_s,
            "naive Faker loop",
        )
        for r in run(names, seconds=0.5 if quick else 2.0)
    ]


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulator bench",
        description="Ready-to-send records per second for each dataset, and the ratio against "
        "a naive per-record Faker loop measured in the same run.",
    )
    parser.add_argument(
        "--seconds",
        type=positive(float),
        default=2.0,
        help="time per measurement (default %(default)s)",
    )
    add_datasets_option(parser)
    add_json_option(parser, "a report")
    args = parser.parse_args(argv)
    results = run([ds.name for ds in default_catalog().select(args.datasets)], args.seconds)
    table = figures_table(
        "simulator: ready-to-send records per second (one process, one thread)",
        ("dataset", "naive Faker loop", "simulator", "ratio"),
        ("dataset",),
    )
    for r in results:
        table.add_row(
            r.dataset, f"{r.naive_per_s:,.0f}", f"{r.simulator_per_s:,.0f}", f"{r.ratio:.1f}x"
        )
    return show(report(results), args.json, table)
