"""The dashboard: one page at /dashboard/ that draws the lake from the public API only.

It reads `/api/stats/` and `/api/analyses/` from the browser, with the API key the user types
when the API asks for one, so it shows an AWS deployment exactly as it shows the embedded stack.
Its script, style and the charting library (Chart.js 4.6.1, MIT, vendored with its licence in
`static/dashboard/vendor/`) are served by the app itself: no CDN, so it works behind a firewall.
"""
