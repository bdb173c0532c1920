-- Campaign performance: the latest snapshot of each campaign (most impressions), with its CTR.
-- @param from date = 1970-01-01: first campaign start day included
-- @param to date = 9999-12-31: last campaign start day included
SELECT
    campaign_id,
    MAX(hashtag) AS hashtag,
    MAX(budget) AS budget,
    MAX(impressions) AS impressions,
    MAX(clicks) AS clicks,
    ROUND(CAST(MAX(clicks) AS DOUBLE) / MAX(impressions), 4) AS ctr
FROM kafka_ing_ad_campaigns
WHERE start_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
GROUP BY campaign_id
ORDER BY ctr DESC, campaign_id
