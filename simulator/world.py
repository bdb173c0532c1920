"""The shared world the four datasets are drawn from: customers, products, pages, users, campaigns.

Faker is called here, a few thousand times at most, to build pools of values; generators then
sample the pools with numpy. That is what makes generation fast (no Faker call per record) and
what gives referential integrity (every dataset draws from the same products and campaigns).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
from faker import Faker

from simulator import reference_data as ref


def weights(values: dict) -> tuple[np.ndarray, np.ndarray]:
    """(values as an array, probabilities summing to 1) from a {value: weight} mapping."""
    keys = np.array(list(values.keys()), dtype=object)
    p = np.array(list(values.values()), dtype=float)
    return keys, p / p.sum()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _stem(text: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", text) if part)


@dataclass(frozen=True)
class WorldSize:
    customers: int = 5_000
    users: int = 3_000
    ips: int = 4_000
    campaigns: int = 100
    sentences: int = 400


class World:
    """Pools of values shared by every generator. The same seed builds the same world."""

    def __init__(self, seed: int, size: WorldSize | None = None) -> None:
        self.seed = seed
        self.size = size or WorldSize()
        self.rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
        self.faker = Faker("en_US")
        self.faker.seed_instance(seed)
        self._products()
        self._customers()
        self._site()
        self._social()
        self._campaigns()
        # Built: the pools never change again (generators only sample them), which is what lets
        # one world serve every simulator of its seed in a process (`world_for`).
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        del self.rng, self.faker  # a generator draws from its own stream, never the world's

    # -- products ------------------------------------------------------------------------------

    def _products(self) -> None:
        self.product_names = np.array([p[0] for p in ref.PRODUCTS], dtype=object)
        self.product_prices = np.array([p[2] for p in ref.PRODUCTS])
        popularity = self.product_prices**ref.PRODUCT_POPULARITY_EXPONENT
        self.product_p = popularity / popularity.sum()
        self.product_paths = np.array(
            [f"/products/{_slug(name)}" for name in self.product_names], dtype=object
        )

    # -- customers: a pool with repeat buyers ---------------------------------------------------

    def _customers(self) -> None:
        n = self.size.customers
        first = [self.faker.first_name() for _ in range(400)]
        last = [self.faker.last_name() for _ in range(800)]
        fi = self.rng.integers(0, len(first), n)
        li = self.rng.integers(0, len(last), n)
        self.customer_names = np.array(
            [f"{first[a]} {last[b]}" for a, b in zip(fi, li, strict=True)], dtype=object
        )
        # UUID4s from the seeded generator (Faker's uuid4 would be one call per customer).
        raw = self.rng.bytes(16 * n)
        ids = []
        for i in range(n):
            b = bytearray(raw[16 * i : 16 * i + 16])
            b[6] = (b[6] & 0x0F) | 0x40
            b[8] = (b[8] & 0x3F) | 0x80
            h = b.hex()
            ids.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
        self.customer_ids = np.array(ids, dtype=object)
        # A few customers buy often, most rarely: Zipf-like weights over a shuffled ranking.
        rank = self.rng.permutation(n) + 1
        w = 1.0 / rank**0.9
        self.customer_p = w / w.sum()

    # -- the web site ---------------------------------------------------------------------------

    def _site(self) -> None:
        pages, page_p = weights(ref.SITE_PAGES)
        product_share = ref.PRODUCT_PAGE_SHARE / (
            ref.PRODUCT_PAGE_SHARE + sum(ref.SITE_PAGES.values())
        )
        self.url_paths = np.concatenate([self.product_paths, pages])
        self.url_p = np.concatenate([self.product_p * product_share, page_p * (1 - product_share)])
        n = self.size.ips
        n6 = int(n * ref.IPV6_SHARE)
        ips = [self.faker.ipv4_public() for _ in range(n - n6)]
        ips += [self.faker.ipv6() for _ in range(n6)]
        self.ips = np.array(ips, dtype=object)
        # Some clients (crawlers, office NATs) make much more traffic than others.
        w = 1.0 / (self.rng.permutation(n) + 1) ** 0.7
        self.ip_p = w / w.sum()
        self.status_codes, self.status_p = weights(ref.STATUS_CODES)
        self.status_codes = self.status_codes.astype(np.int64)
        self.methods, self.method_p = weights(ref.HTTP_METHODS)
        self.user_agents, self.user_agent_p = weights(ref.USER_AGENTS)
        self.search_terms = np.array(
            [name.split()[0].lower() for name in self.product_names], dtype=object
        )

    # -- social network users and filler sentences ----------------------------------------------

    def _social(self) -> None:
        names: set[str] = set()
        while len(names) < self.size.users:
            names.add(self.faker.user_name())
        self.users = np.array(sorted(names), dtype=object)
        self.rng.shuffle(self.users)
        w = 1.0 / (np.arange(len(self.users)) + 1) ** 0.8  # a few very active accounts
        self.user_p = w / w.sum()
        self.sentences = np.array(
            [self.faker.sentence(nb_words=8) for _ in range(self.size.sentences)], dtype=object
        )

    # -- ad campaigns: each promotes a product under its own hashtag ----------------------------

    def _campaigns(self) -> None:
        n = self.size.campaigns
        product_idx = self.rng.choice(len(self.product_names), size=n, p=self.product_p)
        theme_idx = self.rng.integers(0, len(ref.CAMPAIGN_THEMES), n)
        tags: list[str] = []
        seen: set[str] = set()
        for i, (p, t) in enumerate(zip(product_idx, theme_idx, strict=True)):
            tag = f"#{_stem(self.product_names[p])}{ref.CAMPAIGN_THEMES[t]}"
            if tag in seen:
                tag = f"{tag}{i}"
            seen.add(tag)
            tags.append(tag)
        self.campaign_ids = np.array([self.rng.bytes(16).hex() for _ in range(n)], dtype=object)
        self.campaign_products = product_idx
        self.campaign_hashtags = np.array(tags, dtype=object)
        lo, hi = ref.CAMPAIGN_BUDGET_RANGE
        mean, sigma = ref.CAMPAIGN_BUDGET_LOGNORMAL
        self.campaign_budgets = np.round(np.clip(self.rng.lognormal(mean, sigma, n), lo, hi), 2)
        self.campaign_days = self.rng.integers(
            ref.CAMPAIGN_DAYS_RANGE[0], ref.CAMPAIGN_DAYS_RANGE[1] + 1, n
        )
        cpm = self.rng.uniform(*ref.CAMPAIGN_CPM_RANGE, n)
        self.campaign_impressions = np.maximum(
            (self.campaign_budgets / cpm * 1000).astype(np.int64), 1
        )
        self.campaign_ctr = self.rng.beta(*ref.CAMPAIGN_CTR_BETA, n)


@functools.lru_cache(maxsize=8)
def world_for(seed: int, size: WorldSize) -> World:
    """The world of `seed` and `size`, built once per process. Building one is a few thousand
    Faker calls (about half a second); every producer run, notebook and test of the same seed
    in one process shares it, as it cannot change once built."""
    return World(seed, size)
