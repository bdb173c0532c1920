"""Hand-picked reference data that makes the synthetic datasets look like a real shop.

Weights are relative; the generators normalise them. Figures are plausible rather than sourced:
what matters is that distributions have the right shape (most web requests succeed, a few
customers buy often, card payments dominate).
"""

from __future__ import annotations

# (product name, category, unit price in USD)
PRODUCTS: list[tuple[str, str, float]] = [
    ("WidgetX", "gadgets", 199.99),
    ("WidgetX Mini", "gadgets", 129.99),
    ("Aurora Headphones", "audio", 89.90),
    ("Aurora Earbuds", "audio", 59.90),
    ("Nimbus Speaker", "audio", 149.00),
    ("Pulse Smartwatch", "wearables", 249.00),
    ("Pulse Band", "wearables", 49.99),
    ("Orbit Phone Case", "accessories", 19.99),
    ("Orbit Charger", "accessories", 29.99),
    ("Orbit Cable 2m", "accessories", 12.49),
    ("Vertex Laptop 14", "computers", 1099.00),
    ("Vertex Laptop 16", "computers", 1499.00),
    ("Vertex Mouse", "computers", 39.90),
    ("Vertex Keyboard", "computers", 79.90),
    ("Lumen Desk Lamp", "home", 45.00),
    ("Lumen Smart Bulb", "home", 14.99),
    ("Breeze Air Purifier", "home", 219.00),
    ("Brew Coffee Maker", "kitchen", 99.00),
    ("Brew Grinder", "kitchen", 69.00),
    ("Chef Knife Set", "kitchen", 129.00),
    ("Trail Backpack", "outdoor", 84.50),
    ("Trail Water Bottle", "outdoor", 24.00),
    ("Summit Tent", "outdoor", 319.00),
    ("Stride Running Shoes", "sports", 119.95),
    ("Stride Yoga Mat", "sports", 34.95),
    ("Focus Notebook", "office", 9.99),
    ("Focus Pen Set", "office", 15.99),
    ("Pixel Tablet 11", "computers", 429.00),
    ("Snap Camera", "photo", 549.00),
    ("Snap Tripod", "photo", 59.00),
]

# Cheap products sell more often than expensive ones: weight ~ price ** -0.5.
PRODUCT_POPULARITY_EXPONENT = -0.5

PAYMENT_METHODS: dict[str, float] = {
    "Credit Card": 45,
    "Debit Card": 25,
    "PayPal": 15,
    "Apple Pay": 8,
    "Bank Transfer": 5,
    "Gift Card": 2,
}

# Items per transaction and the discount applied to the line.
QUANTITIES: dict[int, float] = {1: 70, 2: 20, 3: 7, 4: 2, 5: 1}
DISCOUNTS: dict[float, float] = {0.0: 85, 0.10: 10, 0.20: 5}

# HTTP status mix of a healthy site: mostly 2xx, some 3xx/4xx, a few 5xx.
STATUS_CODES: dict[int, float] = {
    200: 78,
    201: 3,
    204: 2,
    301: 2,
    302: 3,
    304: 4,
    400: 1.5,
    401: 1,
    403: 0.5,
    404: 3,
    500: 1,
    502: 0.5,
    503: 0.5,
}

HTTP_METHODS: dict[str, float] = {"GET": 86, "POST": 10, "PUT": 2, "DELETE": 1, "HEAD": 1}

# Pages other than product pages (those come from PRODUCTS), with their share of traffic.
SITE_PAGES: dict[str, float] = {
    "/": 14,
    "/home": 6,
    "/cart": 6,
    "/checkout": 3,
    "/account": 3,
    "/login": 3,
    "/search": 8,
    "/blog": 2,
    "/help/shipping": 1,
    "/help/returns": 1,
    "/api/v1/recommendations": 3,
    "/static/css/site.css": 2,
    "/static/js/app.js": 2,
}
PRODUCT_PAGE_SHARE = 46  # product pages' combined weight beside SITE_PAGES

IPV6_SHARE = 0.15

USER_AGENTS: dict[str, float] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36": 34,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/18.1 Mobile/15E148 Safari/604.1": 22,
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36": 17,
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15": 12,
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0": 6,
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": 5,
    "curl/8.11.0": 2,
    "python-requests/2.32.3": 2,
}

# Campaign hashtags are built as '#' + product stem + one of these.
CAMPAIGN_THEMES = ["Launch", "Deals", "Week", "Days", "Promo", "Sale", "Drop", "Fest"]

# Social posts: templates filled with a product, a campaign hashtag, a mention and a sentence.
POST_TEMPLATES = [
    "Just got the {product} and I love it! {hashtag}",
    "{hashtag} is on: the {product} at a great price. Thanks @{mention}",
    "Anyone tried the {product}? Thinking about it. {hashtag}",
    "Not impressed by the {product} so far. {sentence}",
    "{sentence} {hashtag}",
    "My {product} arrived today, unboxing tonight with @{mention} {hashtag}",
    "Best purchase this year: {product}. {sentence} {hashtag}",
    "@{mention} you were right about the {product}. {hashtag}",
]

# Engagement: likes are heavy-tailed; retweets are a fraction of likes.
LIKES_LOGNORMAL = (3.0, 1.3)  # mean and sigma of log(likes + 1)
RETWEET_RATIO_BETA = (2.0, 8.0)  # share of likers who also retweet

# Campaign economics.
CAMPAIGN_BUDGET_LOGNORMAL = (8.5, 0.9)  # exp(8.5) ~ 4,900 USD median
CAMPAIGN_BUDGET_RANGE = (500.0, 150_000.0)
CAMPAIGN_CPM_RANGE = (2.0, 15.0)  # USD per thousand impressions
CAMPAIGN_CTR_BETA = (2.0, 90.0)  # ~2.2% mean click-through rate
CAMPAIGN_DAYS_RANGE = (7, 90)
