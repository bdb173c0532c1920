"""One generator per dataset: columns built as arrays in batches, sampled from the shared world.

A generator is a cursor over an endless, deterministic stream: `columns(n)` returns the next n
records as {column: list} in catalog order. Adding a dataset means adding an entry to the
catalog and a generator registered here under the dataset's name.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from lakestream.core.datasets import Dataset
from simulator import reference_data as ref
from simulator.clock import EventClock, to_dates, to_timestamps
from simulator.world import World, weights

Columns = dict[str, list[Any]]

BLOCK = 4_096  # records built at a time; fixed so that any read pattern gives the same stream

GENERATORS: dict[str, type[DatasetGenerator]] = {}


def register(name: str) -> Callable[[type[DatasetGenerator]], type[DatasetGenerator]]:
    def wrap(cls: type[DatasetGenerator]) -> type[DatasetGenerator]:
        cls.dataset_name = name
        GENERATORS[name] = cls
        return cls

    return wrap


class Sampler:
    """Draws indices with fixed probabilities; the cumulative table is built once."""

    def __init__(self, p: np.ndarray) -> None:
        self.cdf = np.cumsum(p)
        self.cdf[-1] = 1.0

    def __call__(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.searchsorted(self.cdf, rng.random(n), side="right")


def stream_seed(seed: int, name: str, purpose: int = 0) -> np.random.SeedSequence:
    """Independent random stream per (seed, dataset, purpose), stable across runs and builds."""
    return np.random.SeedSequence([seed, zlib.crc32(name.encode()), purpose])


class DatasetGenerator:
    dataset_name: ClassVar[str] = ""
    default_pace: ClassVar[float] = 1.0  # seconds of event time between records

    def __init__(self, world: World, dataset: Dataset, clock: EventClock | None = None) -> None:
        self.world = world
        self.dataset = dataset
        self.clock = clock or EventClock(pace=self.default_pace)
        self.rng = np.random.default_rng(stream_seed(world.seed, dataset.name))
        self.position = 0  # index of the next record handed out
        self.block_start = 0  # index of the first record of the block being built
        self._buffer: Columns = {name: [] for name in dataset.column_names}

    def columns(self, n: int) -> Columns:
        """The next n records, column by column, in catalog order.

        Records are built in fixed blocks, so the stream is the same whatever sizes it is read
        in: a seed means the same records for a producer reading 2,000 at a time and a test
        reading 30,000 at once.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        names = self.dataset.column_names
        while len(self._buffer[names[0]]) < n:
            block = self._build(BLOCK)
            self.block_start += BLOCK
            for name in names:
                self._buffer[name].extend(block[name])
        out = {name: self._buffer[name][:n] for name in names}
        self._buffer = {name: self._buffer[name][n:] for name in names}
        self.position += n
        return out

    def _build(self, n: int) -> Columns:
        raise NotImplementedError

    def _times(self, n: int) -> np.ndarray:
        return self.clock.times(self.block_start, n, self.rng)


@register("transactions")
class TransactionGenerator(DatasetGenerator):
    default_pace = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        w = self.world
        self.customers = Sampler(w.customer_p)
        self.products = Sampler(w.product_p)
        self.payment_values, p = weights(ref.PAYMENT_METHODS)
        self.payments = Sampler(p)
        self.quantity_values, p = weights(ref.QUANTITIES)
        self.quantities = Sampler(p)
        self.discount_values, p = weights(ref.DISCOUNTS)
        self.discounts = Sampler(p)

    def _build(self, n: int) -> Columns:
        w, rng = self.world, self.rng
        customer = self.customers(rng, n)
        product = self.products(rng, n)
        qty = self.quantity_values[self.quantities(rng, n)].astype(np.float64)
        discount = self.discount_values[self.discounts(rng, n)].astype(np.float64)
        amount = np.round(w.product_prices[product] * qty * (1.0 - discount), 2)
        return {
            "ClientID": w.customer_ids[customer].tolist(),
            "ClientName": w.customer_names[customer].tolist(),
            "TransactionDate": to_dates(self._times(n)),
            "Product": w.product_names[product].tolist(),
            "Amount": amount.tolist(),
            "PaymentMethod": self.payment_values[self.payments(rng, n)].tolist(),
        }


@register("web_logs")
class WebLogGenerator(DatasetGenerator):
    default_pace = 0.25

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        w = self.world
        self.ips = Sampler(w.ip_p)
        self.urls = Sampler(w.url_p)
        self.statuses = Sampler(w.status_p)
        self.methods = Sampler(w.method_p)
        self.agents = Sampler(w.user_agent_p)
        self.search_index = int(np.flatnonzero(w.url_paths == "/search")[0])

    def _build(self, n: int) -> Columns:
        w, rng = self.world, self.rng
        url_idx = self.urls(rng, n)
        urls = w.url_paths[url_idx]
        searches = np.flatnonzero(url_idx == self.search_index)
        if len(searches):
            terms = w.search_terms[rng.integers(0, len(w.search_terms), len(searches))]
            urls[searches] = [f"/search?q={t}" for t in terms]
        return {
            "IP_Address": w.ips[self.ips(rng, n)].tolist(),
            "URL": urls.tolist(),
            "Status_Code": w.status_codes[self.statuses(rng, n)].tolist(),
            "Timestamp": to_timestamps(self._times(n)),
            "Method": w.methods[self.methods(rng, n)].tolist(),
            "User_Agent": w.user_agents[self.agents(rng, n)].tolist(),
        }


@register("social_posts")
class SocialPostGenerator(DatasetGenerator):
    default_pace = 2.0
    own_campaign_product_share = 0.6  # posts under a campaign hashtag usually name its product

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        w = self.world
        self.users = Sampler(w.user_p)
        self.products = Sampler(w.product_p)

    def _build(self, n: int) -> Columns:
        w, rng = self.world, self.rng
        author = w.users[self.users(rng, n)].tolist()
        mention = w.users[self.users(rng, n)].tolist()
        campaign = rng.integers(0, len(w.campaign_ids), n)
        product = np.where(
            rng.random(n) < self.own_campaign_product_share,
            w.campaign_products[campaign],
            self.products(rng, n),
        )
        template = rng.integers(0, len(ref.POST_TEMPLATES), n).tolist()
        sentence = w.sentences[rng.integers(0, len(w.sentences), n)].tolist()
        hashtag = w.campaign_hashtags[campaign].tolist()
        product_name = w.product_names[product].tolist()
        templates = ref.POST_TEMPLATES
        message = [
            templates[t].format(product=p, hashtag=h, mention=m, sentence=s)
            for t, p, h, m, s in zip(
                template, product_name, hashtag, mention, sentence, strict=True
            )
        ]
        likes = np.floor(np.expm1(rng.normal(*ref.LIKES_LOGNORMAL, n)).clip(0)).astype(np.int64)
        retweets = rng.binomial(likes, rng.beta(*ref.RETWEET_RATIO_BETA, n))
        return {
            "user": author,
            "message": message,
            "post_date": to_dates(self._times(n)),
            "likes": likes.tolist(),
            "retweets": retweets.tolist(),
        }


@register("ad_campaigns")
class AdCampaignGenerator(DatasetGenerator):
    """The world's campaigns, then snapshots of their growing delivery (same key, later stats).

    Record i describes campaign i mod C at snapshot i div C. Start dates are fixed per campaign
    (campaign c starts at clock time c), so every snapshot of a campaign lands in one `dt`.
    """

    default_pace = 4 * 3600.0
    snapshots_to_full_delivery = 4

    def _build(self, n: int) -> Columns:
        w = self.world
        count = len(w.campaign_ids)
        index = np.arange(self.block_start, self.block_start + n)
        c, snapshot = index % count, index // count
        start = self.clock.start_epoch + (c * self.clock.pace).astype(np.int64)
        end = start + w.campaign_days[c] * 86_400
        delivered = np.minimum(1.0, (snapshot + 1) / self.snapshots_to_full_delivery)
        impressions = np.maximum(np.ceil(w.campaign_impressions[c] * delivered), 1).astype(np.int64)
        total_clicks = np.floor(w.campaign_impressions[c] * w.campaign_ctr[c])
        clicks = np.floor(total_clicks * delivered).astype(np.int64)
        return {
            "campaign_id": w.campaign_ids[c].tolist(),
            "start_date": to_dates(start),
            "end_date": to_dates(end),
            "budget": w.campaign_budgets[c].tolist(),
            "clicks": clicks.tolist(),
            "impressions": impressions.tolist(),
            "ctr": (clicks / impressions).tolist(),
            "hashtag": w.campaign_hashtags[c].tolist(),
        }
